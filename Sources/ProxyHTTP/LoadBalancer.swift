import ProxyRouting

/// Picks an endpoint of a cluster for one request, on the worker's loop.
enum LoadBalancer {
    /// Healthy endpoints of the lowest priority that has any; all endpoints when none is healthy (panic mode).
    static func candidates(_ c: ClusterConfig) -> [EndpointConfig] {
        let healthy = c.endpoints.filter(\.healthy)
        guard !healthy.isEmpty else { return [] }
        let top = healthy.map(\.priority).min()!
        return healthy.filter { $0.priority == top }
    }

    static func pick(_ c: ClusterConfig, worker: Worker, hash: UInt64?, exclude: Set<EndpointConfig> = []) -> EndpointConfig? {
        var eps = candidates(c)
        if eps.count > 1, !exclude.isEmpty {
            let rest = eps.filter { !exclude.contains($0) }
            if !rest.isEmpty { eps = rest }
        }
        guard !eps.isEmpty else { return nil }
        if eps.count == 1 { return eps[0] }
        switch c.lbPolicy {
        case .ringHash, .maglev:
            if let hash { return ring(eps, hash) }
            return eps[worker.random(below: eps.count)]
        case .random:
            return eps[worker.random(below: eps.count)]
        case .leastRequest:
            // Power of two choices on active requests.
            let a = eps[worker.random(below: eps.count)], b = eps[worker.random(below: eps.count)]
            return load(a, c, worker) <= load(b, c, worker) ? a : b
        case .roundRobin:
            let total = eps.reduce(0) { $0 + max(1, $1.weight) }
            let n = worker.roundRobin[c.name, default: 0]
            worker.roundRobin[c.name] = n &+ 1
            var slot = n % total
            for e in eps {
                slot -= max(1, e.weight)
                if slot < 0 { return e }
            }
            return eps.last
        }
    }

    static func load(_ e: EndpointConfig, _ c: ClusterConfig, _ w: Worker) -> Int {
        w.pools[EndpointKey(cluster: c.name, host: e.host, port: e.port)]?.activeRequests ?? 0
    }

    /// Consistent hashing: the endpoint with the highest score for this key (rendezvous hashing), stable
    /// when other endpoints come and go.
    static func ring(_ eps: [EndpointConfig], _ hash: UInt64) -> EndpointConfig {
        var best = eps[0]
        var bestScore: UInt64 = 0
        for e in eps {
            var h = hash ^ 0x9E37_79B9_7F4A_7C15
            for b in "\(e.host):\(e.port)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h ^= h >> 33
            h = h &* 0xff51_afd7_ed55_8ccd
            h ^= h >> 33
            if h >= bestScore { bestScore = h; best = e }
        }
        return best
    }
}
