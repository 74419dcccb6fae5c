// ProxyRouting: the pure logic the data path runs over the config model (ProxyConfig) per request: virtual host
// lookup, route matching, weighted choice, rewrites and redirects, authorization (RBACEngine: Envoy's RBAC
// policies over a request or a bare connection; RBACCheck: one filter instance's shadow and enforced rules, with
// counters and log), and the HTTP filters (Filters/: JWT authentication, RBAC, local rate limit, fault, and the
// registry that compiles each route's chain in the listener's `http_filters` order when config arrives). It
// imports neither NIO nor protobuf and touches no sockets or clocks (headers are read through ProxyConfig's
// `HeaderLookup`, the time is passed in, wall time through the worker's injected clock), so the control plane's
// output can be checked end to end ("request X from proxy P lands on cluster C") without a network.
