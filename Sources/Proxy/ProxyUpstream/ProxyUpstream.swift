// ProxyUpstream: `weft proxy`'s upstream layer. Per worker, `Upstreams` holds the snapshot's clusters as
// `ClusterRuntime`s and the connection pools to their endpoints; the request side (ProxyHTTP) goes through
// `Upstreams.cluster(_:)` and the `ClusterRuntime` request API (pick, requestStarted/Ended, retry budget, record,
// count) and the pools' acquire/release, nothing else. Each piece owns its state: Rotation.swift decides which
// endpoints are in rotation (priorities, localities, panic threshold), LoadBalancer.swift picks among them,
// OutlierDetection.swift ejects on consecutive errors, HealthChecker/HealthProbe run active checks, UpstreamPool
// holds one endpoint's HTTP/1.1 connections or HTTP/2 connection and its circuit-breaker accounting, and
// SharedUpstreams keeps what Envoy keeps per cluster across workers (circuit-breaker counts, retry budget, outlier
// state; atomics, ejections published to every worker). UpstreamConnector opens connections (TCP; embedded
// channels in tests). TLS to upstreams (mTLS) plugs in at the connector.
