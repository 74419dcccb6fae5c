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
