import WeftCore
import ProxyConfig

/// Picks an endpoint of a cluster for one request, on the worker's loop.
enum LoadBalancer {
    /// The endpoint for one request and its pool, and how many endpoints were to choose from; nil when none
    /// is in rotation.
    static func pick(_ rt: ClusterRuntime, hash: UInt64?, exclude: Set<EndpointConfig>, random: (Int) -> Int)
        -> (endpoint: EndpointConfig, pool: UpstreamPool, choices: Int)? {
        if !rt.pools.isEmpty {
            // The common case: one priority, one group, kept flat on the runtime.
            guard let i = index(rt.candidates, rt.pools, rt.totalWeight, rt, hash: hash, exclude: exclude, random: random) else { return nil }
            return (rt.candidates[i], rt.pools[i], rt.candidates.count)
        }
        guard let g = rt.chooseGroup(random: random),
              let i = index(g.endpoints, g.pools, g.totalWeight, rt, hash: hash, exclude: exclude, random: random) else { return nil }
        return (g.endpoints[i], g.pools[i], g.endpoints.count)
    }

    static func index(_ eps: [EndpointConfig], _ pools: [UpstreamPool], _ totalWeight: Int, _ rt: ClusterRuntime,
                      hash: UInt64?, exclude: Set<EndpointConfig>, random: (Int) -> Int) -> Int? {
        guard !eps.isEmpty else { return nil }
        if eps.count == 1 { return 0 }
        if !exclude.isEmpty {
            let rest = eps.indices.filter { !exclude.contains(eps[$0]) }
            if !rest.isEmpty, rest.count < eps.count { return rest[random(rest.count)] }
        }
        switch rt.config.lbPolicy {
        case .ringHash, .maglev:
            if let hash { return ring(eps, hash) }
            return random(eps.count)
        case .random:
            return random(eps.count)
        case .leastRequest:
            // Power of two choices on active requests.
            let a = random(eps.count), b = random(eps.count)
            return pools[a].activeRequests <= pools[b].activeRequests ? a : b
        case .roundRobin:
            let n = rt.roundRobin
            rt.roundRobin = n &+ 1
            if totalWeight == eps.count { return n % eps.count }
            var slot = n % totalWeight
            for (i, e) in eps.enumerated() {
                slot -= max(1, e.weight)
                if slot < 0 { return i }
            }
            return eps.count - 1
        }
    }

    /// Consistent hashing: the endpoint with the highest score for this key (rendezvous hashing), stable
    /// when other endpoints come and go.
    static func ring(_ eps: [EndpointConfig], _ hash: UInt64) -> Int {
        var best = 0
        var bestScore: UInt64 = 0
        for (i, e) in eps.enumerated() {
            var h = FNV1a.mix(hash ^ 0x9E37_79B9_7F4A_7C15, e.host)
            h = FNV1a.mix(h, ":\(e.port)")
            h ^= h >> 33
            h = h &* 0xff51_afd7_ed55_8ccd
            h ^= h >> 33
            if h >= bestScore { bestScore = h; best = i }
        }
        return best
    }
}
