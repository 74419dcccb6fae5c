// ProxyRouting: the pure logic the data path runs over the config model (ProxyConfig) per request: virtual host
// lookup, route matching, weighted choice, rewrites and redirects, and the HTTP filters (Filters/: fault, local
// rate limit, and the registry that compiles each route's chain in the listener's `http_filters` order when
// config arrives). It imports neither NIO nor protobuf and touches no sockets or clocks (headers are read through
// ProxyConfig's `HeaderLookup`, the time is passed in), so the control plane's output can be checked end to end
// ("request X from proxy P lands on cluster C") without a network.
