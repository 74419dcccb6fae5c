/// Istio's `localityLbSetting` (DestinationRule trafficPolicy.loadBalancer): prefer the caller's own locality,
/// fail over by priority, or distribute by weights between localities.
public struct LocalityLbSetting: Hashable, Sendable {
    /// `from` locality (with `*` wildcards) -> share of traffic per `to` locality (percent, adding up to 100).
    public struct Distribute: Hashable, Sendable {
        public var from: String
        public var to: [String: Int]
    }
    /// When `from` region has no healthy endpoint, go to `to` region next.
    public struct Failover: Hashable, Sendable {
        public var from: String
        public var to: String
    }
    public var enabled: Bool?
    public var distribute: [Distribute] = []
    public var failover: [Failover] = []
    public var failoverPriority: [String] = []

    static func decode(_ r: ObjectReader) -> LocalityLbSetting {
        defer { r.finish() }
        var s = LocalityLbSetting(enabled: r.bool("enabled"))
        s.distribute = r.objects("distribute") { d in
            defer { d.finish() }
            var to: [String: Int] = [:]
            if let t = d.object("to") {
                for (k, _) in t.pairs { to[k] = t.int(k) ?? 0 }
                t.finish()
            }
            return Distribute(from: d.string("from", required: true) ?? "", to: to)
        }
        s.failover = r.objects("failover") { f in
            defer { f.finish() }
            return Failover(from: f.string("from", required: true) ?? "", to: f.string("to", required: true) ?? "")
        }
        s.failoverPriority = r.strings("failoverPriority")
        return s
    }

    /// Whether `locality` (region/zone/subzone, parts may be missing) matches `pattern` (parts may be `*`,
    /// missing trailing parts match anything).
    public static func matches(_ pattern: String, _ locality: String) -> Bool {
        let p = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let l = locality.split(separator: "/", omittingEmptySubsequences: false)
        for (i, part) in p.enumerated() where part != "*" {
            guard i < l.count, l[i] == part else { return false }
        }
        return true
    }
}

/// Istio's ZoneAwareLoadBalancerSetting (Envoy's zone-aware routing): checked as Istio does, not applied yet.
enum ZoneAwareLbSetting {
    static let topologyLabels: Set<String> = ["topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"]

    static func check(_ r: ObjectReader) {
        defer { r.finish() }
        _ = r.bool("enabled")
        _ = r.int("minClusterSize")
        let failover: [(from: String, to: String)] = r.objects("failover") { f in
            defer { f.finish() }
            return (f.string("from") ?? "", f.string("to") ?? "")
        }
        for (i, f) in failover.enumerated() {
            let p = r.sub("failover[\(i)]")
            if f.from == f.to { r.ctx.error(p, "zone aware lb failover settings must specify different regions") }
            if f.from.contains("/") || f.to.contains("/") {
                r.ctx.error(p, "zone aware lb failover only specifies region; zone and subzone failover are handled automatically")
            }
            if f.from.contains("*") || f.to.contains("*") { r.ctx.error(p, "zone aware lb failover region should not contain '*' wildcard") }
        }
        for (i, label) in r.strings("failoverPriority").enumerated() where topologyLabels.contains(label) {
            r.ctx.error(r.sub("failoverPriority[\(i)]"),
                        "'failover_priority' for zone aware lb must not use topology label '\(label)'; region- and zone-level routing are handled automatically")
        }
    }
}
