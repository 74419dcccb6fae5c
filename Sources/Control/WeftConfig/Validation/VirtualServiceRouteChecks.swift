import WeftCore

/// Istio's checks of gateway names, TLS routes, match header names and CORS policies (pkg/config/validation).
extension ResourceValidator {
    /// RFC 7230 token characters: what a header name may hold.
    static let tokenCharacters = Set("!#$%&'*+-.^_`|~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    static let pseudoHeaders: Set<String> = [":method", ":scheme", ":authority", ":path", ":status"]
    static let corsMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"]

    /// A VirtualService bound to a gateway other than `mesh` (Istio's isGateway).
    static func appliesToGateway(_ vs: VirtualService) -> Bool { vs.gateways.contains { $0 != "mesh" } }

    /// `mesh`, `namespace/name` (both DNS-1123 labels), or the legacy `name.namespace` form.
    static func gatewayNames(_ names: [String], _ p: String, _ c: inout Checker) {
        for (i, name) in names.enumerated() {
            let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 1 {
                if !isFQDN(name) { c.error("\(p)[\(i)]", "invalid gateway name '\(name)'") }
                continue
            }
            if parts[0].isEmpty || parts[1].isEmpty { c.error("\(p)[\(i)]", "config namespace and gateway name cannot be empty"); continue }
            if !KubernetesName.isLabel(parts[0]) { c.error("\(p)[\(i)]", "invalid value for namespace: '\(parts[0])'") }
            if !KubernetesName.isLabel(parts[1]) { c.error("\(p)[\(i)]", "invalid value for gateway name: '\(parts[1])'") }
        }
    }

    /// Istio's ValidateFQDN: DNS-1123 labels, the last one not all digits (an empty last label allowed: `a.b.`).
    static func isFQDN(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 255 else { return false }
        var labels = s.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count > 1 && labels.last == "" { labels.removeLast() }
        guard let last = labels.last, !last.allSatisfy(\.isNumber) else { return false }
        return labels.allSatisfy { KubernetesName.isLabel(String($0)) }
    }

    /// Istio's auto-generated SNI names, `outbound_.PORT_.SUBSET_.HOST`, allowed on gateway TLS routes.
    static func isAutoSNI(_ h: String) -> Bool {
        let parts = h.split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "outbound_", parts[1].hasSuffix("_"), parts[1].dropLast().allSatisfy(\.isNumber),
              !parts[1].dropLast().isEmpty, parts[2].hasSuffix("_"), parts[3].first?.isLetter == true else { return false }
        return true
    }

    static func tlsRoute(_ t: TLSRoute, _ p: String, _ vs: VirtualService, _ c: inout Checker) {
        if t.match.isEmpty { c.error("\(p).match", "TLS route must have at least one match condition") }
        for (j, m) in t.match.enumerated() {
            let mp = "\(p).match[\(j)]"
            if m.sniHosts.isEmpty { c.error("\(mp).sniHosts", "TLS match must have at least one SNI host") }
            for (k, sni) in m.sniHosts.enumerated() {
                let sp = "\(mp).sniHosts[\(k)]"
                if IPAddressText.isIP(sni) {
                    c.warn(sp, "an IP address as SNI host goes against the SNI spec; most clients do not send it")
                    continue
                }
                if !(appliesToGateway(vs) && isAutoSNI(sni)) {
                    var inner = Checker(file: c.file, resource: c.resource)
                    inner.host(sni, sp)
                    if !inner.diagnostics.isEmpty { c.diagnostics += inner.diagnostics; continue }
                }
                if !vs.hosts.contains(where: { isSubset(sni, of: $0) }) {
                    c.error(sp, "SNI host '\(sni)' is not a compatible subset of any of the virtual service hosts: [\(vs.hosts.joined(separator: ", "))]")
                }
            }
            for (k, s) in m.destinationSubnets.enumerated() where !IPAddressText.isIP(s.split(separator: "/").first.map(String.init) ?? s) {
                c.error("\(mp).destinationSubnets[\(k)]", "'\(s)' is not an IP address or CIDR")
            }
            c.port(m.port, "\(mp).port")
            c.labels(m.sourceLabels, "\(mp).sourceLabels")
            gatewayNames(m.gateways, "\(mp).gateways", &c)
        }
        if t.route.isEmpty { c.error("\(p).route", "TLS route is required") }
        for (j, d) in t.route.enumerated() { destination(d.destination, "\(p).route[\(j)].destination", &c) }
        weights(t.route, "\(p).route", &c)
    }

    /// Istio's host.Name.SubsetOf: equal, or inside a wildcard.
    static func isSubset(_ a: String, of b: String) -> Bool {
        if b == "*" || a == b { return true }
        guard b.hasPrefix("*") else { return false }
        let suffix = b.dropFirst()
        if a.hasPrefix("*") { return a.dropFirst().hasSuffix(suffix) }
        return a.hasSuffix(suffix)
    }

    /// A header a route matches on: a token, a pseudo-header (`:method`), or an `@request.auth.claims` key.
    static func matchHeaderName(_ name: String, _ p: String, _ c: inout Checker) {
        if name.isEmpty { c.error(p, "header name cannot be empty"); return }
        if isClaimKey(name) || pseudoHeaders.contains(name) { return }
        if !name.allSatisfy(tokenCharacters.contains) { c.error("\(p).\(name)", "header name \(name) is not a valid header name") }
    }

    static func corsPolicy(_ cors: CorsPolicy, _ p: String, _ c: inout Checker) {
        for (j, o) in cors.allowOrigins.enumerated() {
            c.stringMatch(o, "\(p).allowOrigins[\(j)]")
            if [.present, .exact(""), .prefix(""), .regex("")].contains(o) {
                c.error("\(p).allowOrigins[\(j)]", "an empty match is not a valid CORS allow origin")
            }
        }
        for (j, m) in cors.allowMethods.enumerated() where !corsMethods.contains(m) {
            c.error("\(p).allowMethods[\(j)]", "'\(m)' is not a supported HTTP method")
        }
        for (field, names) in [("allowHeaders", cors.allowHeaders), ("exposeHeaders", cors.exposeHeaders)] {
            for (j, n) in names.enumerated() {
                if n.isEmpty { c.error("\(p).\(field)[\(j)]", "header name cannot be empty") }
                else if n != "*" && !n.allSatisfy(tokenCharacters.contains) { c.error("\(p).\(field)[\(j)]", "header name \(n) is not a valid header name") }
            }
        }
        if let age = cors.maxAge {
            c.duration(age, "\(p).maxAge")
            if age % 1_000_000_000 != 0 { c.error("\(p).maxAge", "max_age duration is accurate only to seconds precision") }
        }
    }
}
