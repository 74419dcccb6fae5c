/// Istio's rules for a VirtualService's header operations, JWT-claim matches and host overlaps
/// (pkg/config/validation in Istio: the same conditions, our wording with the field path).
extension ResourceValidator {
    static func isAuthorityHeader(_ name: String) -> Bool {
        let n = name.lowercased()
        return n == ":authority" || n == "host"
    }

    /// Header names and values of one `headers` block; `authorityRewrite` is the route's `rewrite.authority`
    /// (route level only: the authority may be set once, by the rewrite or by one header).
    static func headers(_ h: Headers?, _ p: String, authorityRewrite: String?, _ c: inout Checker) {
        guard let h else { return }
        var authority = authorityRewrite ?? ""
        for (op, values) in [("set", h.request.set), ("add", h.request.add)] {
            for (name, value) in values.sorted(by: { $0.key < $1.key }) {
                let at = "\(p).request.\(op).\(name)"
                if name.isEmpty { c.error("\(p).request.\(op)", "header name cannot be empty"); continue }
                if isAuthorityHeader(name) {
                    if !authority.isEmpty {
                        c.error(at, "the authority is set more than once: have '\(authority)', attempting to set '\(value)'")
                    }
                    authority = value
                } else if name.hasPrefix(":") {
                    c.error(at, "header '\(name)' cannot have a ':' prefix")
                }
                headerValue(value, at, &c)
            }
        }
        for name in h.request.remove { removedOrResponseHeader(name, "\(p).request.remove", &c) }
        for (op, values) in [("set", h.response.set), ("add", h.response.add)] {
            for (name, value) in values.sorted(by: { $0.key < $1.key }) {
                removedOrResponseHeader(name, "\(p).response.\(op)", &c)
                headerValue(value, "\(p).response.\(op).\(name)", &c)
            }
        }
        for name in h.response.remove { removedOrResponseHeader(name, "\(p).response.remove", &c) }
    }

    static func removedOrResponseHeader(_ name: String, _ p: String, _ c: inout Checker) {
        if name.isEmpty {
            c.error(p, "header name cannot be empty")
        } else if name.lowercased() == "host" {
            c.error("\(p).\(name)", "cannot set or remove the Host header here")
        } else if name.hasPrefix(":") {
            c.error("\(p).\(name)", "header '\(name)' cannot have a ':' prefix")
        }
    }

    /// Control characters are refused; `%` starts an Envoy variable (`%VAR%`) and must be closed, or written `%%`.
    static func headerValue(_ value: String, _ p: String, _ c: inout Checker) {
        if value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0.value != 0x09) || $0.value == 0x7F }) {
            return c.error(p, "header value has a control character")
        }
        let chars = Array(value)
        var i = 0
        while i < chars.count {
            guard chars[i] == "%" else { i += 1; continue }
            if i + 1 < chars.count && chars[i + 1] == "%" { i += 2; continue }
            guard let close = chars[(i + 1)...].firstIndex(of: "%") else {
                let rest = String(chars[i...])
                return c.error(p, rest == "%" ? "un-escaped '%' (write '%%')" : "unterminated variable expression '\(rest)' (write '%%' for a literal '%')")
            }
            i = close + 1
        }
    }

    /// `@request.auth.claims` matches need a gateway (the JWT is validated there); Istio refuses them on routes
    /// bound to the mesh.
    static func claimMatches(_ route: HTTPRoute, _ p: String, gateways: [String], _ c: inout Checker) {
        for (j, m) in route.match.enumerated() {
            for (field, keys) in [("headers", m.headers.keys), ("withoutHeaders", m.withoutHeaders.keys)] {
                for key in keys.sorted() where isClaimKey(key) {
                    c.error("\(p).match[\(j)].\(field).\(key)",
                            "JWT claim based routing (key: \(key)) is only supported for gateways, found no gateways: \(gateways)")
                }
            }
        }
    }

    static func isClaimKey(_ key: String) -> Bool {
        let prefix = "@request.auth.claims"
        guard key.lowercased().hasPrefix(prefix) else { return false }
        let rest = key.dropFirst(prefix.count)
        return (rest.hasPrefix(".") || rest.hasPrefix("[")) && rest.count > 1
    }

    /// Two hosts of one VirtualService that match each other (a duplicate, or a wildcard covering another).
    static func overlappingHosts(_ hosts: [String], _ c: inout Checker) {
        for i in hosts.indices {
            for j in hosts.indices where j > i && hostsOverlap(hosts[i], hosts[j]) {
                c.error("spec.hosts[\(j)]", "duplicate hosts in virtual service: \(hosts[i]) & \(hosts[j])")
            }
        }
    }

    /// Istio's host.Name.Matches.
    static func hostsOverlap(_ a: String, _ b: String) -> Bool {
        let aw = a.hasPrefix("*"), bw = b.hasPrefix("*")
        switch (aw, bw) {
        case (true, true): return a.count < b.count ? b.dropFirst().hasSuffix(a.dropFirst()) : a.dropFirst().hasSuffix(b.dropFirst())
        case (true, false): return b.hasSuffix(a.dropFirst())
        case (false, true): return a.hasSuffix(b.dropFirst())
        case (false, false): return a == b
        }
    }
}
