import WeftCore

extension ResourceValidator {
    /// Istio's rules for AuthorizationPolicy (ValidateAuthorizationPolicy), plus what Weft cannot do (CUSTOM):
    /// every source and operation sets a field, `when` keys are attributes Istio knows with values of the right
    /// shape, wildcards only at the start or end of a value, principals written without their scheme.
    static func validateAuthorizationPolicy(_ p: AuthorizationPolicy, _ c: inout Checker) {
        policyScope(p.selector, p.targetRefs, &c)
        switch p.action {
        case .CUSTOM:
            c.error("spec.action", "CUSTOM is not supported: Weft has no external authorizer (use ALLOW, DENY or AUDIT)")
        default:
            if p.provider != nil { c.error("spec.provider", "a provider is only for action CUSTOM") }
        }
        for (i, rule) in p.rules.enumerated() {
            let at = "spec.rules[\(i)]"
            for (j, s) in rule.from.enumerated() { authzSource(s, "\(at).from[\(j)].source", &c) }
            for (j, o) in rule.to.enumerated() { authzOperation(o, "\(at).to[\(j)].operation", &c) }
            for (j, w) in rule.when.enumerated() { authzCondition(w, "\(at).when[\(j)]", &c) }
        }
    }

    /// `selector` or `targetRefs` (not both); a target is a Service or ServiceEntry of the policy's namespace.
    static func policyScope(_ selector: [String: String]?, _ refs: [PolicyTargetRef], _ c: inout Checker) {
        if let labels = selector { c.labels(labels, "spec.selector.matchLabels") }
        if selector != nil && !refs.isEmpty { c.error("spec.targetRefs", "set only one of selector and targetRefs") }
        for (i, r) in refs.enumerated() {
            let at = "spec.targetRefs[\(i)]"
            let service = (r.kind == "Service" && (r.group.isEmpty || r.group == "core"))
                || (r.kind == "ServiceEntry" && r.group == "networking.istio.io")
            if !service { c.error("\(at).kind", "only a Service (group \"\") or ServiceEntry (group networking.istio.io) can be a target, got '\(r.group)/\(r.kind)'") }
            if r.name.isEmpty { c.error("\(at).name", "missing required field") }
            if let ns = r.namespace, !ns.isEmpty { c.error("\(at).namespace", "a target must be in the policy's own namespace; leave namespace out") }
        }
    }

    static func authzSource(_ s: AuthorizationPolicy.Source, _ at: String, _ c: inout Checker) {
        if s.isEmpty { c.error(at, "a source must set at least one field") }
        for (name, values) in [("principals", s.principals), ("notPrincipals", s.notPrincipals)] {
            for (k, v) in values.enumerated() { principal(v, "\(at).\(name)[\(k)]", &c) }
        }
        for (name, values) in [("requestPrincipals", s.requestPrincipals), ("notRequestPrincipals", s.notRequestPrincipals),
                               ("namespaces", s.namespaces), ("notNamespaces", s.notNamespaces)] {
            for (k, v) in values.enumerated() { wildcardValue(v, "\(at).\(name)[\(k)]", &c) }
        }
        for (name, values) in [("serviceAccounts", s.serviceAccounts), ("notServiceAccounts", s.notServiceAccounts)] {
            for (k, v) in values.enumerated() {
                let parts = v.split(separator: "/", omittingEmptySubsequences: false)
                if parts.count != 2 || parts.contains(where: { $0.isEmpty || $0.contains("*") }) {
                    c.error("\(at).\(name)[\(k)]", "a service account is written namespace/name, without wildcards; got '\(v)'")
                }
            }
        }
        for (name, values) in [("ipBlocks", s.ipBlocks), ("notIpBlocks", s.notIpBlocks),
                               ("remoteIpBlocks", s.remoteIpBlocks), ("notRemoteIpBlocks", s.notRemoteIpBlocks)] {
            for (k, v) in values.enumerated() { ipBlock(v, "\(at).\(name)[\(k)]", &c) }
        }
    }

    static func authzOperation(_ o: AuthorizationPolicy.Operation, _ at: String, _ c: inout Checker) {
        if o.isEmpty { c.error(at, "an operation must set at least one field") }
        for (name, values) in [("hosts", o.hosts), ("notHosts", o.notHosts), ("methods", o.methods), ("notMethods", o.notMethods)] {
            for (k, v) in values.enumerated() { wildcardValue(v, "\(at).\(name)[\(k)]", &c) }
        }
        for (name, values) in [("paths", o.paths), ("notPaths", o.notPaths)] {
            for (k, v) in values.enumerated() {
                wildcardValue(v, "\(at).\(name)[\(k)]", &c)
                if v.contains("{") { c.error("\(at).\(name)[\(k)]", "path templates ({*}, {**}) are not supported; use `prefix*` or `*suffix`") }
                else if !v.hasPrefix("/") && !v.hasPrefix("*") { c.error("\(at).\(name)[\(k)]", "a path starts with '/' or '*', got '\(v)'") }
            }
        }
        for (name, values) in [("ports", o.ports), ("notPorts", o.notPorts)] {
            for (k, v) in values.enumerated() { portText(v, "\(at).\(name)[\(k)]", &c) }
        }
    }

    static func authzCondition(_ w: AuthorizationPolicy.Condition, _ at: String, _ c: inout Checker) {
        if w.values.isEmpty && w.notValues.isEmpty { c.error(at, "a condition needs values or notValues") }
        guard let attribute = AuthzAttribute(key: w.key) else {
            c.error("\(at).key", "unknown attribute '\(w.key)' (supported: \(AuthzAttribute.documented.joined(separator: ", ")))")
            return
        }
        for (name, values) in [("values", w.values), ("notValues", w.notValues)] {
            for (k, v) in values.enumerated() {
                let path = "\(at).\(name)[\(k)]"
                switch attribute {
                case .sourceIP, .remoteIP, .destinationIP: ipBlock(v, path, &c)
                case .destinationPort: portText(v, path, &c)
                case .sourcePrincipal: principal(v, path, &c)
                default: wildcardValue(v, path, &c)
                }
            }
        }
    }

    /// A principal as Istio writes it: `cluster.local/ns/shop/sa/front`, `*` at either end at most.
    static func principal(_ v: String, _ path: String, _ c: inout Checker) {
        if v.contains("://") {
            c.error(path, "a principal is written without its scheme, as trust-domain/ns/NAMESPACE/sa/ACCOUNT; got '\(v)'")
        } else {
            wildcardValue(v, path, &c)
        }
    }

    /// `*` alone, or once at the start or the end of a non-empty value.
    static func wildcardValue(_ v: String, _ path: String, _ c: inout Checker) {
        if v.isEmpty { c.error(path, "must not be empty"); return }
        if v == "*" { return }
        let inner = v.dropFirst().dropLast()
        let stars = v.filter { $0 == "*" }.count
        if inner.contains("*") || stars > 1 {
            c.error(path, "'\(v)': a wildcard '*' is only allowed alone, at the start or at the end")
        }
    }

    static func ipBlock(_ v: String, _ path: String, _ c: inout Checker) {
        if CIDRText(v) == nil { c.error(path, "'\(v)' is not an IP address or CIDR block (such as 10.0.0.0/16 or 2001:db8::/32)") }
    }

    static func portText(_ v: String, _ path: String, _ c: inout Checker) {
        guard let p = Int(v), PortNumber.problem(p) == nil else {
            c.error(path, "'\(v)' is not a port number (1..65535)")
            return
        }
    }
}
