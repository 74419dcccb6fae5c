// ProxyConfig: the proxy's configuration model, what XDSClient makes of validated xDS and every part of the data
// path reads: listeners, route tables (virtual hosts, routes, matchers, actions, policies), clusters (endpoints,
// circuit limits, outlier detection, health checks) and the HTTP filters' settings, with times typed as
// `Duration`. Plain values with no I/O and no NIO, swapped whole as a `ProxySnapshot` when config changes. TLS
// contexts and secrets (SDS) join here as new value types beside `ClusterConfig` and `ListenerConfig`; a new
// HTTP filter adds its settings type here and its logic in ProxyRouting/Filters.
// Authorization and authentication live here as compiled config: Envoy's RBAC rules (RBAC.swift, matchers in
// TextMatcher.swift), JWT providers with parsed key sets (JWTAuthn.swift); and what filters share per request and
// per worker: `FilterRequest` (with the connection's `ConnectionFacts`, `DynamicMetadata` and header edits) and
// `WorkerFilterState` (named counters, caches, log).
