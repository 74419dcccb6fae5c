// ProxyHTTP: the data path of `weft proxy`. NIO channel handlers on event loops, one Worker per loop holding
// that loop's config snapshot, upstream pools, load-balancer state and counters. Everything a request touches
// is confined to its loop: no locks, no Swift Concurrency hops. Config arrives by `Worker.apply` (run on the
// worker's loop); routing decisions come from ProxyRouting.
import NIOCore
import ProxyRouting

/// One event loop's share of the proxy. Only ever used on `loop`.
public final class Worker: @unchecked Sendable {
    public let loop: any EventLoop
    public private(set) var snapshot = ProxySnapshot()
    var pools: [EndpointKey: UpstreamPool] = [:]
    var roundRobin: [String: Int] = [:]
    var rng: any RandomNumberGenerator
    public let stats = WorkerStats()
    /// Open downstream connections, for draining on shutdown.
    public internal(set) var activeConnections = 0
    public internal(set) var activeRequests = 0

    public init(loop: any EventLoop, rng: any RandomNumberGenerator = SystemRandomNumberGenerator()) {
        self.loop = loop
        self.rng = rng
    }

    /// Takes a new snapshot. Pools of endpoints that stay keep their connections; pools of endpoints that
    /// left are closed once idle.
    public func apply(_ new: ProxySnapshot) {
        loop.preconditionInEventLoop()
        snapshot = new
        var keep: Set<EndpointKey> = []
        for c in new.clusters.values {
            for e in c.endpoints { keep.insert(EndpointKey(cluster: c.name, host: e.host, port: e.port)) }
        }
        for (key, pool) in pools where !keep.contains(key) {
            pool.retire()
            pools[key] = nil
        }
        for (key, pool) in pools { if let c = new.clusters[key.cluster] { pool.cluster = c } }
    }

    func random(below n: Int) -> Int {
        n <= 1 ? 0 : Int.random(in: 0..<n, using: &rng)
    }

    func pool(cluster: ClusterConfig, endpoint: EndpointConfig) -> UpstreamPool {
        let key = EndpointKey(cluster: cluster.name, host: endpoint.host, port: endpoint.port)
        if let p = pools[key] { return p }
        let p = UpstreamPool(key: key, cluster: cluster, loop: loop, stats: stats)
        pools[key] = p
        return p
    }
}

struct EndpointKey: Hashable {
    var cluster: String
    var host: String
    var port: Int
}

/// Per-worker counters; the admin endpoint adds up all workers' counters on their own loops.
public final class WorkerStats: @unchecked Sendable {
    public struct Cluster: Sendable {
        public init() {}
        public var requests = 0
        public var responses: [Int: Int] = [:]  // by status class: 2, 3, 4, 5
        public var connectFailures = 0
        public var timeouts = 0
        public var overflows = 0
        public var retries = 0
        public var connectionsOpened = 0
        public var connectionsActive = 0
        public var activeRequests = 0
        public var pendingRequests = 0
        /// Sum and count of upstream request durations, in microseconds, for averages; plus buckets.
        public var durationMicrosSum = 0
        public var durationBuckets = [Int](repeating: 0, count: WorkerStats.bucketBoundsMs.count + 1)
    }
    public static let bucketBoundsMs: [Double] = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    public var clusters: [String: Cluster] = [:]
    public var downstreamRequests = 0
    public var localReplies: [String: Int] = [:]  // by response flag
    public var downstreamConnections = 0

    func update(_ cluster: String, _ change: (inout Cluster) -> Void) {
        change(&clusters[cluster, default: Cluster()])
    }

    func recordDuration(_ cluster: String, micros: Int) {
        update(cluster) { c in
            c.durationMicrosSum += micros
            let ms = Double(micros) / 1000
            let i = WorkerStats.bucketBoundsMs.firstIndex { ms <= $0 } ?? WorkerStats.bucketBoundsMs.count
            c.durationBuckets[i] += 1
        }
    }
}
