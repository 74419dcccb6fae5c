/// The service graph as the dashboard, `weft top` and `weft metrics` show it: per edge and per service, the rate
/// of requests, the share that failed and the median and 99th percentile latency over the last window, from two
/// consecutive scrapes of every proxy.
public struct ServiceGraph: Sendable, Codable, Equatable {
    public struct Edge: Sendable, Codable, Equatable {
        public var key: EdgeKey
        public var rps: Double
        public var errorRate: Double
        public var p50: Double?
        public var p99: Double?
        /// Most of the edge's requests went over mesh mTLS.
        public var mtls: Bool
        /// Errors per second by response flag.
        public var errorsByFlag: [String: Double]
    }

    public struct Service: Sendable, Codable, Equatable {
        public var host: String
        public var name: String
        public var namespace: String
        public var versions: [String]
        public var rps: Double
        public var errorRate: Double
        public var p50: Double?
        public var p99: Double?
        public var errorsByFlag: [String: Double]
    }

    /// Seconds since 1970 of the newest scrape, and the window the rates are over.
    public var updatedAt: Double
    public var windowSeconds: Double
    public var services: [Service]
    public var edges: [Edge]
    /// Proxies scraped, and those whose metrics could not be read (node ids).
    public var proxies: Int
    public var unreachable: [String]

    public init(updatedAt: Double = 0, windowSeconds: Double = 0, services: [Service] = [], edges: [Edge] = [], proxies: Int = 0,
                unreachable: [String] = []) {
        self.updatedAt = updatedAt
        self.windowSeconds = windowSeconds
        self.services = services
        self.edges = edges
        self.proxies = proxies
        self.unreachable = unreachable
    }
}

/// One proxy's counters at one moment.
public struct Scrape: Sendable {
    public var at: Double
    public var edges: [EdgeKey: EdgeCounters]

    public init(at: Double, edges: [EdgeKey: EdgeCounters]) {
        self.at = at
        self.edges = edges
    }
}

/// Builds a ServiceGraph from every proxy's previous and current scrape.
public enum GraphBuilder {
    public static func build(_ pairs: [(previous: Scrape?, current: Scrape)], unreachable: [String] = []) -> ServiceGraph {
        var deltas: [EdgeKey: EdgeCounters] = [:]
        var window = 0.0
        var newest = 0.0
        for (prev, cur) in pairs {
            newest = max(newest, cur.at)
            guard let prev, cur.at > prev.at else { continue }
            window = max(window, cur.at - prev.at)
            for (key, c) in cur.edges {
                let d = delta(c, prev.edges[key])
                deltas[key, default: EdgeCounters()].add(d)
            }
        }
        let seconds = max(window, 0.001)
        var edges: [ServiceGraph.Edge] = []
        var perService: [String: (EdgeKey, EdgeCounters, Set<String>)] = [:]
        for (key, d) in deltas {
            // Services seen stay listed; an edge with no call in the window is left out.
            if perService[key.service] == nil { perService[key.service] = (key, EdgeCounters(), []) }
            guard d.requests > 0 else { continue }
            edges.append(ServiceGraph.Edge(key: key, rps: d.requests / seconds, errorRate: d.requests > 0 ? d.errors / d.requests : 0,
                                           p50: quantile(0.5, d.buckets), p99: quantile(0.99, d.buckets),
                                           mtls: d.requests > 0 && d.mtls * 2 >= d.requests, errorsByFlag: d.byFlag.mapValues { $0 / seconds }))
            var s = perService[key.service] ?? (key, EdgeCounters(), [])
            s.1.add(d)
            if key.version != "unknown" { s.2.insert(key.version) }
            perService[key.service] = s
        }
        edges.sort { ($0.key.service, $0.key.source, $0.key.version) < ($1.key.service, $1.key.source, $1.key.version) }
        let services = perService.keys.sorted().map { host -> ServiceGraph.Service in
            let (k, d, versions) = perService[host]!
            return ServiceGraph.Service(host: host, name: k.serviceName, namespace: k.serviceNamespace, versions: versions.sorted(),
                                        rps: d.requests / seconds, errorRate: d.requests > 0 ? d.errors / d.requests : 0,
                                        p50: quantile(0.5, d.buckets), p99: quantile(0.99, d.buckets),
                                        errorsByFlag: d.byFlag.mapValues { $0 / seconds })
        }
        return ServiceGraph(updatedAt: newest, windowSeconds: window, services: services, edges: edges, proxies: pairs.count,
                            unreachable: unreachable)
    }

    /// What a counter set gained since `before`; a counter that went down (the proxy restarted) counts from zero.
    static func delta(_ now: EdgeCounters, _ before: EdgeCounters?) -> EdgeCounters {
        guard let b = before, now.requests >= b.requests else { return now }
        var d = EdgeCounters()
        d.requests = now.requests - b.requests
        d.errors = max(0, now.errors - b.errors)
        d.mtls = max(0, now.mtls - b.mtls)
        for (f, v) in now.byFlag { d.byFlag[f] = max(0, v - (b.byFlag[f] ?? 0)) }
        d.byFlag = d.byFlag.filter { $0.value > 0 }
        for (le, v) in now.buckets { d.buckets[le] = max(0, v - (b.buckets[le] ?? 0)) }
        return d
    }

    /// The q-quantile of a cumulative histogram, interpolated within its bucket as Prometheus'
    /// histogram_quantile does; nil without observations. In the `+Inf` bucket: the highest finite bound.
    public static func quantile(_ q: Double, _ buckets: [Double: Double]) -> Double? {
        let bounds = buckets.keys.sorted()
        guard let total = bounds.last.flatMap({ buckets[$0] }), total > 0 else { return nil }
        let rank = q * total
        var prevBound = 0.0, prevCount = 0.0
        for b in bounds {
            let count = buckets[b]!
            if count >= rank {
                if b == .infinity { return prevBound }
                let inBucket = count - prevCount
                return inBucket > 0 ? prevBound + (b - prevBound) * (rank - prevCount) / inBucket : b
            }
            prevBound = b
            prevCount = count
        }
        return prevBound
    }
}

extension EdgeCounters {
    mutating func add(_ o: EdgeCounters) {
        requests += o.requests
        errors += o.errors
        mtls += o.mtls
        for (f, v) in o.byFlag { byFlag[f, default: 0] += v }
        for (le, v) in o.buckets { buckets[le, default: 0] += v }
    }
}
