import NIOCore
import ProxyConfig
import ProxyRouting

/// One event loop's share of the proxy. Only ever used on `loop`.
public final class Worker: @unchecked Sendable {
    public let loop: any EventLoop
    public private(set) var snapshot = ProxySnapshot()
    var pools: [EndpointKey: UpstreamPool] = [:]
    /// Per-cluster state compiled from the snapshot: endpoints in rotation, their pools, counters.
    var clusters: [String: ClusterRuntime] = [:]
    var rng: any RandomNumberGenerator
    public let stats = WorkerStats()
    /// Open downstream connections, for draining on shutdown.
    public internal(set) var activeConnections = 0
    public internal(set) var activeRequests = 0

    /// Cluster state shared with the other workers of the proxy (circuit breakers, outlier detection).
    let shared: SharedUpstreams

    /// Opens upstream connections (TCP; embedded channels in tests).
    let connector: any UpstreamConnector

    public init(loop: any EventLoop, rng: any RandomNumberGenerator = SystemRandomNumberGenerator(),
                shared: SharedUpstreams = SharedUpstreams(), connector: any UpstreamConnector = TCPConnector()) {
        self.loop = loop
        self.rng = rng
        self.shared = shared
        self.connector = connector
        shared.subscribe { [weak self] name in
            guard let self else { return }
            // The worker that ejected has rebuilt its rotation already; the others do it on their own loop.
            if !loop.inEventLoop { loop.execute { self.clusters[name]?.recompute() } }
        }
    }

    /// Takes a new snapshot. Pools of endpoints that stay keep their connections; pools of endpoints that
    /// left are closed once idle. Per-cluster state used by every request is compiled here, once.
    public func apply(_ new: ProxySnapshot) {
        loop.preconditionInEventLoop()
        snapshot = new
        var keep: Set<EndpointKey> = []
        var runtimes: [String: ClusterRuntime] = [:]
        for c in new.clusters.values {
            for e in c.endpoints { keep.insert(EndpointKey(cluster: c.name, host: e.host, port: e.port)) }
        }
        for (key, pool) in pools where !keep.contains(key) {
            pool.retire()
            pools[key] = nil
        }
        for c in new.clusters.values {
            for (key, pool) in pools where key.cluster == c.name { pool.cluster = c }
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

    /// Endpoints failing their active health check, by cluster, as the health checker last published them.
    var healthCheckFailures: [String: Set<EndpointAddress>] = [:]

    /// Takes the health checker's news for one cluster (on this worker's loop).
    public func setHealthCheckFailures(cluster: String, _ failed: Set<EndpointAddress>) {
        loop.preconditionInEventLoop()
        healthCheckFailures[cluster] = failed
        guard let rt = clusters[cluster] else { return }
        rt.markHealthCheckFailures(failed)
        rt.recompute()
    }

    /// Endpoints that outlier detection took out of rotation on this worker, as `cluster` -> `host:port`.
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

    /// Downstream connection accounting, shared by the HTTP/1 and HTTP/2 handlers.
    func connectionOpened() {
        activeConnections += 1
        stats.downstreamConnections += 1
    }

    func connectionClosed() { activeConnections -= 1 }

    func random(below n: Int) -> Int {
        n <= 1 ? 0 : Int.random(in: 0..<n, using: &rng)
    }

    func pool(cluster: ClusterConfig, endpoint: EndpointConfig) -> UpstreamPool {
        let key = EndpointKey(cluster: cluster.name, host: endpoint.host, port: endpoint.port)
        if let p = pools[key] { return p }
        let sharedCluster = shared.cluster(cluster.name)
        let p = UpstreamPool(key: key, cluster: cluster, loop: loop, stats: stats, shared: sharedCluster,
                             endpoint: sharedCluster.endpoint(EndpointAddress(endpoint)), connector: connector)
        pools[key] = p
        return p
    }
}

/// An endpoint's address, as the health checker names it.
public struct EndpointAddress: Hashable, Sendable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(_ e: EndpointConfig) { self.init(host: e.host, port: e.port) }
}

struct EndpointKey: Hashable {
    var cluster: String
    var host: String
    var port: Int
}

/// One cluster's state on one worker, compiled when a snapshot is applied.
final class ClusterRuntime {
    var config: ClusterConfig
    /// Endpoints healthy by EDS (every priority), and their pools (same order).
    var all: [EndpointConfig] = []
    var allPools: [UpstreamPool] = []
    /// The rotation by priority (see Rotation.swift).
    var levels: [RotationLevel] = []
    /// The common case, one priority and one group in rotation, kept flat for the request path (else empty).
    var candidates: [EndpointConfig] = []
    var pools: [UpstreamPool] = []
    var totalWeight = 0
    var roundRobin = 0
    /// When the next ejected endpoint comes back.
    var nextUnejection: NIODeadline?
    let counters: ClusterCounters
    /// The cluster's state across workers: requests and retries in flight (for the retry budget), circuit
    /// breaker counts, outlier detection.
    let shared: SharedCluster

    init(config: ClusterConfig, counters: ClusterCounters, shared: SharedCluster) {
        self.config = config
        self.counters = counters
        self.shared = shared
    }
}

/// A cluster's counters on one worker, updated in place by requests.
public final class ClusterCounters: @unchecked Sendable {
    public var value = WorkerStats.Cluster()
}

/// Per-worker counters; the admin endpoint adds up all workers' counters on their own loops.
public final class WorkerStats: @unchecked Sendable {
    public struct Cluster: Sendable {
        public init() {}
        public var requests = 0
        public var connectFailures = 0
        public var timeouts = 0
        public var overflows = 0
        public var retries = 0
        public var connectionsOpened = 0
        public var connectionsActive = 0
        /// Sum of upstream request durations in microseconds, and a histogram by `bucketBoundsMs`.
        public var durationMicrosSum = 0
        public var durationBuckets = [Int](repeating: 0, count: WorkerStats.bucketBoundsMs.count + 1)
        public var responses2xx = 0
        public var responses3xx = 0
        public var responses4xx = 0
        public var responses5xx = 0
        public var ejectionsTotal = 0
        public var ejectionsActive = 0
        public var retryOverflows = 0
    }
    public static let bucketBoundsMs: [Double] = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    public var clusterCounters: [String: ClusterCounters] = [:]
    public var downstreamRequests = 0
    public var localReplies: [String: Int] = [:]  // by response flag
    public var downstreamConnections = 0

    /// A copy of every cluster's counters.
    public var clusters: [String: Cluster] { clusterCounters.mapValues(\.value) }

    func counters(_ cluster: String) -> ClusterCounters {
        if let c = clusterCounters[cluster] { return c }
        let c = ClusterCounters()
        clusterCounters[cluster] = c
        return c
    }

    func update(_ cluster: String, _ change: (inout Cluster) -> Void) {
        change(&counters(cluster).value)
    }

    static func record(_ c: ClusterCounters, micros: Int, status: Int) {
        c.value.durationMicrosSum += micros
        let ms = Double(micros) / 1000
        var i = 0
        while i < bucketBoundsMs.count && ms > bucketBoundsMs[i] { i += 1 }
        c.value.durationBuckets[i] += 1
        switch status / 100 {
        case 2: c.value.responses2xx += 1
        case 3: c.value.responses3xx += 1
        case 4: c.value.responses4xx += 1
        case 5: c.value.responses5xx += 1
        default: break
        }
    }
}
