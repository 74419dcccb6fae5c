import NIOCore
import ProxyConfig

/// The endpoints in rotation for one cluster on one worker, as Envoy computes them: endpoints leave for
/// outlier ejection or a failing active health check; each priority gets a share of the load by its health
/// (x1.4 overprovisioning), so traffic fails over to the next priority only as the preferred one fails;
/// below the panic threshold a priority uses all its endpoints anyway. With locality weights, a priority's
/// traffic is split between localities by weight first.
struct RotationGroup {
    var endpoints: [EndpointConfig] = []
    var pools: [UpstreamPool] = []
    var totalWeight = 0
    /// Locality weight (locality-weighted clusters), cumulative over the level's groups.
    var cumulativeWeight = 0
}

struct RotationLevel {
    var groups: [RotationGroup] = []
    /// Share of the traffic, per million, cumulative over levels.
    var cumulativeLoad = 0
}

extension ClusterRuntime {
    static let overprovisioning = 1.4

    /// Flags the pools of endpoints the health checker reports failing (none when the cluster is not checked).
    func markHealthCheckFailures(_ failed: Set<EndpointAddress>) {
        for (e, p) in zip(all, allPools) { p.failedHealthCheck = config.healthCheck != nil && failed.contains(EndpointAddress(e)) }
    }

    /// Rebuilds the rotation from `all` less ejected and health-check-failed endpoints.
    /// `now` decides which ejections are over (the callers' clock, so tests can pass their own times).
    func recompute(now: NIODeadline = .now()) {
        var next: NIODeadline?
        var ejectedCount = 0
        var byPriority: [Int: [(EndpointConfig, UpstreamPool, Bool)]] = [:]
        for (e, pool) in zip(all, allPools) {
            let ejected = pool.endpoint.isEjected(at: now)
            if ejected, let until = pool.endpoint.ejectedUntil {
                next = min(next ?? until, until)
                ejectedCount += 1
            }
            let available = !ejected && !pool.failedHealthCheck
            byPriority[e.priority, default: []].append((e, pool, available))
        }
        let priorities = byPriority.keys.sorted()
        // Envoy's priority load: health per priority (overprovisioned, capped at 100), normalised.
        let health = priorities.map { p -> Double in
            let members = byPriority[p]!
            let up = members.filter(\.2).count
            return min(100, Self.overprovisioning * 100 * Double(up) / Double(max(1, members.count)))
        }
        let total = min(100, health.reduce(0, +))
        var levels: [RotationLevel] = []
        var remaining = 1_000_000, cumulative = 0
        for (i, p) in priorities.enumerated() {
            var load = total == 0 ? (i == 0 ? 1_000_000 : 0) : min(remaining, Int(health[i] * 1_000_000 / total))
            if i == priorities.count - 1 && total > 0 { load = remaining }
            remaining -= load
            guard load > 0 else { continue }
            cumulative += load
            let members = byPriority[p]!
            var chosen = members.filter(\.2)
            let healthyPercent = Double(chosen.count) * 100 / Double(max(1, members.count))
            if chosen.isEmpty || healthyPercent < config.panicThresholdPercent { chosen = members }
            levels.append(RotationLevel(groups: groups(chosen), cumulativeLoad: cumulative))
        }
        self.levels = levels
        let only = levels.count == 1 && levels[0].groups.count == 1 ? levels[0].groups[0] : nil
        candidates = only?.endpoints ?? []
        pools = only?.pools ?? []
        totalWeight = only?.totalWeight ?? 0
        nextUnejection = next
        counters.value.ejectionsActive = ejectedCount
    }

    /// One group per locality when the cluster is locality-weighted, else one group.
    private func groups(_ members: [(EndpointConfig, UpstreamPool, Bool)]) -> [RotationGroup] {
        func group(_ m: [(EndpointConfig, UpstreamPool, Bool)]) -> RotationGroup {
            RotationGroup(endpoints: m.map(\.0), pools: m.map(\.1), totalWeight: m.reduce(0) { $0 + max(1, $1.0.weight) })
        }
        guard config.localityWeighted else { return [group(members)] }
        var order: [String] = []
        var byLocality: [String: [(EndpointConfig, UpstreamPool, Bool)]] = [:]
        for m in members {
            if byLocality[m.0.locality] == nil { order.append(m.0.locality) }
            byLocality[m.0.locality, default: []].append(m)
        }
        var out: [RotationGroup] = [], cumulative = 0
        for l in order {
            let m = byLocality[l]!
            let w = m[0].0.localityWeight
            guard w > 0 else { continue }
            cumulative += w
            var g = group(m)
            g.cumulativeWeight = cumulative
            out.append(g)
        }
        return out.isEmpty ? [group(members)] : out
    }

    /// The group for one request: by priority load, then by locality weight (when `pools` is empty: see
    /// LoadBalancer.pick for the flat case).
    func chooseGroup(random: (Int) -> Int) -> RotationGroup? {
        guard let last = levels.last else { return nil }
        let r = random(last.cumulativeLoad)
        guard let level = levels.first(where: { r < $0.cumulativeLoad }) ?? levels.last, let lastGroup = level.groups.last else { return nil }
        if level.groups.count == 1 { return lastGroup }
        let w = random(max(1, lastGroup.cumulativeWeight))
        return level.groups.first { w < $0.cumulativeWeight } ?? lastGroup
    }
}
