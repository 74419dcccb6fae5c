import WeftCore

extension ResourceValidator {
    static func validateSidecar(_ sc: Sidecar, _ c: inout Checker) {
        if let sel = sc.workloadSelector { c.labels(sel, "spec.workloadSelector.labels") }
        for (i, e) in sc.egress.enumerated() {
            let p = "spec.egress[\(i)]"
            c.port(e.port, "\(p).port.number")
            if e.hosts.isEmpty { c.error("\(p).hosts", "at least one host is required") }
            for (j, h) in e.hosts.enumerated() { namespacedHost(h, "\(p).hosts[\(j)]", gateway: false, &c) }
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
            for (j, h) in s.hosts.enumerated() { namespacedHost(h, "\(p).hosts[\(j)]", gateway: true, &c) }
            if let m = s.tlsMode, !["PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"].contains(m) {
                c.error("\(p).tls.mode", "'\(m)' is not a TLS mode (SIMPLE, MUTUAL, PASSTHROUGH, ...)")
            }
        }
    }

    /// Istio's `namespace/host` (ValidateNamespaceSlashWildcardHostname). Sidecar: namespace `*`, `.` or a name,
    /// each optionally `~`-prefixed to exclude it (`~/*` imports nothing). Gateway: `*`, `.` or a name, and a bare
    /// host (the old style) is allowed. The host must be fully qualified or `*`, with no partial wildcard.
    static func namespacedHost(_ h: String, _ p: String, gateway: Bool, _ c: inout Checker) {
        let parts = h.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            if gateway { hostPart(h, p, gateway: true, &c) } else { c.error(p, "'\(h)' must be namespace/host") }
            return
        }
        if parts[0].isEmpty || parts[1].isEmpty { c.error(p, "config namespace and dnsName in host entry cannot be empty"); return }
        let ns = gateway ? parts[0] : String(parts[0].drop { $0 == "~" })
        if !(ns.isEmpty && !gateway) && ns != "*" && ns != "." && !ResourceDecoder.isDNSLabelish(ns) {
            c.error(p, "invalid namespace value '\(parts[0])' in \(gateway ? "gateway" : "sidecar") (a name, '*' or '.'\(gateway ? "" : ", optionally after '~'"))")
        }
        hostPart(parts[1], p, gateway: gateway, &c)
    }

    static func hostPart(_ h: String, _ p: String, gateway: Bool, _ c: inout Checker) {
        if h != "*" && !h.contains(".") && !(gateway && IPAddressText.isIP(h)) {
            c.error(p, "short names (non FQDN) are not allowed: '\(h)'")
        }
        if h.contains("*") && h != "*" && !h.hasPrefix("*.") { c.error(p, "partial wildcard '\(h)' not allowed"); return }
        if !(gateway && IPAddressText.isIP(h)) { c.host(h, p) }
    }
}
