import NIOCore
import ProxyConfig

/// One worker's upstream side, and the request side's one door into this layer: the clusters of the current
/// snapshot as `ClusterRuntime`s (rotation, load balancing, outlier state, counters) and the connection pools to
/// their endpoints. Only ever used on `loop`; what must hold across workers (circuit breakers, retry budget,
/// ejections) lives in the `SharedUpstreams` every worker's `Upstreams` is given.
public final class Upstreams: @unchecked Sendable {
    public let loop: any EventLoop
    let stats: WorkerStats
    /// Cluster state shared with the other workers of the proxy (circuit breakers, outlier detection).
    let shared: SharedUpstreams
    /// Opens upstream connections (TCP; embedded channels in tests).
    let connector: any UpstreamConnector
    var pools: [EndpointKey: UpstreamPool] = [:]
    /// Per-cluster state compiled from the snapshot: endpoints in rotation, their pools, counters.
    var clusters: [String: ClusterRuntime] = [:]
    /// Endpoints failing their active health check, by cluster, as the health checker last published them.
    var healthCheckFailures: [String: Set<EndpointAddress>] = [:]

    public init(loop: any EventLoop, stats: WorkerStats, shared: SharedUpstreams = SharedUpstreams(),
                connector: any UpstreamConnector = TCPConnector()) {
        self.loop = loop
        self.stats = stats
        self.shared = shared
        self.connector = connector
        shared.subscribe { [weak self] name in
            guard let self else { return }
            // The worker that ejected has rebuilt its rotation already; the others do it on their own loop.
            if !loop.inEventLoop { loop.execute { self.clusters[name]?.recompute() } }
        }
    }

    /// The proxy's mesh TLS contexts (shared by every worker).
    public var credentials: MeshCredentials { shared.credentials }

    /// The cluster of this name in the current snapshot.
    package func cluster(_ name: String) -> ClusterRuntime? { clusters[name] }

    /// Takes a new snapshot's clusters. Pools of endpoints that stay keep their connections; pools of endpoints
    /// that left are closed once idle. Per-cluster state used by every request is compiled here, once.
    public func apply(_ configs: [String: ClusterConfig]) {
        loop.preconditionInEventLoop()
        var keep: Set<EndpointKey> = []
        var runtimes: [String: ClusterRuntime] = [:]
        for c in configs.values {
            for e in c.endpoints { keep.insert(EndpointKey(cluster: c.name, host: e.host, port: e.port)) }
        }
        for (key, pool) in pools where !keep.contains(key) {
            pool.retire()
            pools[key] = nil
        }
        for c in configs.values {
            for e in c.endpoints { pools[EndpointKey(cluster: c.name, host: e.host, port: e.port)]?.update(c, endpoint: e) }
            let candidates = c.endpoints.filter(\.healthy)
            let rt = clusters[c.name] ?? ClusterRuntime(config: c, counters: stats.counters(c.name), shared: shared.cluster(c.name))
            rt.config = c
            rt.all = candidates
            rt.allPools = candidates.map { pool(cluster: c, endpoint: $0) }
            rt.markHealthCheckFailures(healthCheckFailures[c.name] ?? [])
            rt.recompute()
            runtimes[c.name] = rt
        }
        clusters = runtimes
    }

    /// Takes the health checker's news for one cluster (on this worker's loop).
    public func setHealthCheckFailures(cluster: String, _ failed: Set<EndpointAddress>) {
        loop.preconditionInEventLoop()
        healthCheckFailures[cluster] = failed
        guard let rt = clusters[cluster] else { return }
        rt.markHealthCheckFailures(failed)
        rt.recompute()
    }

    /// Endpoints that outlier detection took out of rotation, as `cluster` -> `host:port`.
    public func ejectedEndpoints() -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        let now = NIODeadline.now()
        for (name, rt) in clusters {
            for (e, p) in zip(rt.all, rt.allPools) where p.endpoint.isEjected(at: now) {
                out[name, default: []].insert(e.host.contains(":") ? "[\(e.host)]:\(e.port)" : "\(e.host):\(e.port)")
            }
        }
        return out
    }

    func pool(cluster: ClusterConfig, endpoint: EndpointConfig) -> UpstreamPool {
        let key = EndpointKey(cluster: cluster.name, host: endpoint.host, port: endpoint.port)
        if let p = pools[key] { return p }
        let sharedCluster = shared.cluster(cluster.name)
        let p = UpstreamPool(key: key, cluster: cluster, loop: loop, stats: stats, shared: sharedCluster,
                             endpoint: sharedCluster.endpoint(EndpointAddress(endpoint)), endpointTLS: endpoint.meshTLS, connector: connector,
                             credentials: shared.credentials)
        pools[key] = p
        return p
    }
}
