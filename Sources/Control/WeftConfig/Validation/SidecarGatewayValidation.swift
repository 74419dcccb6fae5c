extension ResourceValidator {
    static func validateSidecar(_ sc: Sidecar, _ c: inout Checker) {
        if let sel = sc.workloadSelector { c.labels(sel, "spec.workloadSelector.labels") }
        for (i, e) in sc.egress.enumerated() {
            let p = "spec.egress[\(i)]"
            c.port(e.port, "\(p).port.number")
            if e.hosts.isEmpty { c.error("\(p).hosts", "at least one host is required") }
            for (j, h) in e.hosts.enumerated() { namespacedHost(h, "\(p).hosts[\(j)]", &c) }
        }
        if let cp = sc.inboundConnectionPool { connectionPool(cp, "spec.inboundConnectionPool", &c) }
        if let m = sc.outboundTrafficPolicyMode, m != "ALLOW_ANY" && m != "REGISTRY_ONLY" {
            c.error("spec.outboundTrafficPolicy.mode", "'\(m)' is not one of ALLOW_ANY, REGISTRY_ONLY")
        }
    }

    static func validateGateway(_ gw: Gateway, _ c: inout Checker) {
        if gw.servers.isEmpty { c.error("spec.servers", "at least one server is required") }
        for (i, s) in gw.servers.enumerated() {
            let p = "spec.servers[\(i)]"
            if let port = s.port { c.port(port.number, "\(p).port.number") } else { c.error("\(p).port", "missing required field") }
            if s.hosts.isEmpty { c.error("\(p).hosts", "at least one host is required") }
            for (j, h) in s.hosts.enumerated() { namespacedHost(h, "\(p).hosts[\(j)]", &c) }
            if let m = s.tlsMode, !["PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"].contains(m) {
                c.error("\(p).tls.mode", "'\(m)' is not a TLS mode (SIMPLE, MUTUAL, PASSTHROUGH, ...)")
            }
        }
    }

    /// `namespace/host`, where namespace may be `*`, `.` or `~`, and host may be `*` or `*.suffix`.
    static func namespacedHost(_ h: String, _ p: String, _ c: inout Checker) {
        let parts = h.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { c.error(p, "'\(h)' must be namespace/host"); return }
        let host = String(parts.last!)
        if parts.count == 2 {
            let ns = String(parts[0])
            if ns.isEmpty || !(ns == "*" || ns == "." || ns == "~" || ResourceDecoder.isDNSLabelish(ns)) {
                c.error(p, "'\(ns)' is not a namespace, '*', '.' or '~'")
            }
        }
        c.host(host, p)
    }
}
