import WeftConfig
import WeftModel

/// Locality-aware load balancing for one calling proxy (Istio's semantics): endpoints in the caller's own
/// subzone, zone and region come first, in that order, then the failover region, then the rest, each group
/// one Envoy priority; or, with `distribute`, one priority and a weight per locality.
struct LocalityPriorities {
    let proxyLocality: String
    let setting: LocalityLbSetting?
    let proxyLabels: [String: String]

    /// The first distribute rule whose `from` matches the caller.
    var distribution: LocalityLbSetting.Distribute? {
        setting?.distribute.first { LocalityLbSetting.matches($0.from, proxyLocality) }
    }

    /// Priority of an endpoint before compaction (lower is preferred).
    func rawPriority(_ e: Endpoint) -> Int {
        if let labels = setting?.failoverPriority, !labels.isEmpty {
            let matched = labels.prefix { label in
                guard let mine = labelValue(label, proxyLabels, proxyLocality) else { return false }
                return labelValue(label, e.labels, e.locality ?? "") == mine
            }.count
            return labels.count - matched
        }
        let mine = parts(proxyLocality), theirs = parts(e.locality ?? "")
        let shared = zip(mine, theirs).prefix { $0 == $1 }.count
        if shared >= 1 {
            return 3 - min(shared, 3)  // 0: same subzone, 1: same zone, 2: same region
        }
        if let region = mine.first, let target = setting?.failover.first(where: { $0.from == String(region) })?.to {
            return theirs.first.map(String.init) == target ? 3 : 4
        }
        return 3
    }

    /// Priorities for a set of endpoints, compacted to 0, 1, 2... as Envoy requires no gaps.
    func priorities(_ endpoints: [Endpoint]) -> [Int] {
        if distribution != nil { return endpoints.map { _ in 0 } }
        let raw = endpoints.map(rawPriority)
        let levels = Array(Set(raw)).sorted()
        return raw.map { levels.firstIndex(of: $0)! }
    }

    /// Weight of a locality under the distribute rule (0: gets no traffic), spreading each target's share
    /// evenly over the localities it matches.
    func weight(of locality: String, among all: [String]) -> Int {
        guard let d = distribution else { return 1 }
        var total = 0
        for (pattern, share) in d.to where LocalityLbSetting.matches(pattern, locality) {
            let n = max(1, all.filter { LocalityLbSetting.matches(pattern, $0) }.count)
            total += share * 1000 / n
        }
        return total
    }

    private func parts(_ l: String) -> [Substring] { l.split(separator: "/") }

    /// Istio's failoverPriority labels may name the locality through the topology labels.
    private func labelValue(_ label: String, _ labels: [String: String], _ locality: String) -> String? {
        let p = locality.split(separator: "/").map(String.init)
        switch label {
        case "topology.kubernetes.io/region": return p.count > 0 ? p[0] : nil
        case "topology.kubernetes.io/zone": return p.count > 1 ? p[1] : nil
        case "topology.istio.io/subzone": return p.count > 2 ? p[2] : nil
        default: return labels[label]
        }
    }
}
