// ProxyHTTP: the data path of `weft proxy`. NIO channel handlers on event loops, one Worker per loop holding
// that loop's config snapshot, upstream pools, load-balancer state and counters. A request stays on its loop: no
// locks, no Swift Concurrency hops. What it shares with other workers is per cluster, as in Envoy: circuit
// breaker counts and outlier state (SharedUpstreams, atomics) and rate-limit buckets. An Exchange runs the
// route's HTTP filters (ProxyRouting/Filters), then the router: pick a cluster and endpoint, take a pooled
// upstream connection (UpstreamPool), stream both ways, retry and time out. Config arrives by `Worker.apply`.
