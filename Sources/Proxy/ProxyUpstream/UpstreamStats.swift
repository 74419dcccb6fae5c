/// A cluster's counters on one worker, updated in place by requests.
public final class ClusterCounters: @unchecked Sendable {
    public var value = WorkerStats.Cluster()
}

/// Per-worker counters; the admin endpoint adds up all workers' counters on their own loops.
public final class WorkerStats: @unchecked Sendable {
    public init() {}
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
