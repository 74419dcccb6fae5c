// ProxyHTTP: the request side of `weft proxy`'s data path. NIO channel handlers on event loops (HTTP/1.1,
// HTTP/2, protocol detection, TCP proxying), one Worker per loop holding that loop's config snapshot, its
// upstream side (ProxyUpstream's `Upstreams`) and counters. A request stays on its loop: no locks, no Swift
// Concurrency hops. An Exchange is driven by a per-stream state machine (Stream/StreamState): it finds the route,
// runs the route's HTTP filter chain (ProxyRouting/Filters, compiled when config arrived), then the router: picks
// a cluster, asks its `ClusterRuntime` for an endpoint and a pooled connection, streams both ways, retries and
// times out, and reports the outcome back (outlier detection, counters). Config arrives by `Worker.apply`.
// Authorization's view of a connection (ConnectionAuthorization) is read once per connection when it is ready,
// after the TLS handshake (peer certificate SANs, SNI read from the ClientHello when a rule needs it, addresses);
// network RBAC is checked there, before anything is proxied.
