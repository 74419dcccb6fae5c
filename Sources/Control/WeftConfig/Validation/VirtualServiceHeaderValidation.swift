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

    /// Control characters are refused; `%` starts an Envoy variable (`%VAR%`, `%VAR(args)%`, `%VAR(["a", "b"])%`)
    /// that must be closed, or is written `%%`: Envoy's header parser, as Istio ports it (validateHeaderValue).
    static func headerValue(_ value: String, _ p: String, _ c: inout Checker) {
        if value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0.value != 0x09) || $0.value == 0x7F }) {
            return c.error(p, "header value has a control character")
        }
        if let problem = EnvoyHeaderFormat.problem(value) { c.error(p, problem) }
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

/// Envoy's header value parser (source/common/router/header_parser.cc) as a state machine over the bytes.
enum EnvoyHeaderFormat {
    private enum State { case literal, name, expectArray, expectString, string, delimiterOrEnd, argsEnd, variableEnd }

    static func problem(_ value: String) -> String? {
        let b = Array(value.utf8)
        var state = State.literal
        var i = 0
        while i < b.count {
            let ch = b[i]
            let hasNext = i + 1 < b.count
            switch state {
            case .literal:
                if ch == UInt8(ascii: "%") {
                    guard hasNext else { return "un-escaped '%' (write '%%')" }
                    if b[i + 1] == UInt8(ascii: "%") { i += 1 } else { state = .name }
                }
            case .name:
                if ch == UInt8(ascii: "%") { state = .literal } else if ch == UInt8(ascii: "(") { state = .expectArray }
            case .expectArray:
                if ch == UInt8(ascii: "[") { state = .expectString } else if ch != 0x20 { state = .string }
            case .delimiterOrEnd:
                if ch == UInt8(ascii: ",") { state = .expectString }
                else if ch == UInt8(ascii: "]") { state = .argsEnd }
                else if ch != 0x20 { return "invalid variable expression: expecting ',', ']' or a space" }
            case .expectString:
                if ch == UInt8(ascii: "\"") { state = .string } else if ch != 0x20 { return "invalid variable expression: expecting '\"'" }
            case .string:
                if ch == UInt8(ascii: "\\") {
                    guard hasNext else { return "invalid variable expression: unterminated backslash" }
                    i += 1
                } else if ch == UInt8(ascii: ")") { state = .variableEnd }
                else if ch == UInt8(ascii: "\"") { state = .delimiterOrEnd }
            case .argsEnd:
                if ch == UInt8(ascii: ")") { state = .variableEnd } else if ch != 0x20 { return "invalid variable expression: expecting ')'" }
            case .variableEnd:
                if ch == UInt8(ascii: "%") { state = .literal } else if ch != 0x20 { return "invalid variable expression: expecting '%' after ')'" }
            }
            i += 1
        }
        return state == .literal ? nil : "unterminated variable expression '\(value)' (write '%%' for a literal '%')"
    }
}
