import EnvoyAPI
import WeftConfig
import WeftCore
import WeftModel

typealias HTTPRBAC = Envoy_Extensions_Filters_Http_Rbac_V3_RBAC
typealias NetworkRBAC = Envoy_Extensions_Filters_Network_Rbac_V3_RBAC
typealias RBACRules = Envoy_Config_Rbac_V3_RBAC

/// A workload's AuthorizationPolicies as Envoy RBAC filters on its inbound listeners, as Istio writes them: one
/// filter per action, in the order AUDIT (Envoy's LOG), DENY, ALLOW; each policy rule an Envoy policy named
/// `ns[NS]-policy[NAME]-rule[N]`; dry-run policies as the filter's shadow rules, counted and logged but not
/// enforced. An ALLOW filter whose policies have no rules denies everything; a DENY policy with no rules is
/// left out. On a TCP port, only what the connection shows can be checked: an ALLOW rule that needs the
/// request is dropped (it allows nothing) and a DENY rule loses its request conditions (it denies more).
struct AuthzBuilder {
    let policies: [AccessPolicies.Named<AuthorizationPolicy>]
    let trustDomain: String
    /// The workload's JWT issuers, to split request principals into issuer and subject.
    let issuers: [String]
    /// The ports this listener serves (the sidecar's inbound port and the app's): `ports` conditions are decided
    /// when the config is made.
    let ports: [Int]
    let tcp: Bool

    init(mesh: MeshState, proxy: ProxyNode, ports: [Int], tcp: Bool) {
        policies = mesh.access.authorization(namespace: proxy.namespace, labels: proxy.labels)
        trustDomain = mesh.mutualTLS.trustDomain
        issuers = mesh.access.authentication(namespace: proxy.namespace, labels: proxy.labels)
            .flatMap { $0.spec.jwtRules.map(\.issuer) }
        self.ports = ports
        self.tcp = tcp
    }

    static let order: [(AuthorizationPolicy.Action, RBACRules.Action, String)] = [
        (.AUDIT, .log, "istio_dry_run_audit_"), (.DENY, .deny, "istio_dry_run_deny_"), (.ALLOW, .allow, "istio_dry_run_allow_"),
    ]

    /// The HTTP RBAC filters, in order; empty when no policy applies.
    func httpFilters() -> [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter] {
        Self.order.compactMap { action, envoyAction, shadowPrefix in
            let (rules, shadow) = configs(action, envoyAction)
            guard rules != nil || shadow != nil else { return nil }
            var f = HTTPRBAC()
            if let rules { f.rules = rules }
            if let shadow {
                f.shadowRules = shadow
                f.shadowRulesStatPrefix = shadowPrefix
            }
            return Proto.typedFilter(FilterName.rbac, f)
        }
    }

    /// The network RBAC filters for a TCP port, in order.
    func networkFilters(statPrefix: String) -> [Envoy_Config_Listener_V3_Filter] {
        Self.order.compactMap { action, envoyAction, shadowPrefix in
            let (rules, shadow) = configs(action, envoyAction)
            guard rules != nil || shadow != nil else { return nil }
            var f = NetworkRBAC()
            f.statPrefix = statPrefix
            if let rules { f.rules = rules }
            if let shadow {
                f.shadowRules = shadow
                f.shadowRulesStatPrefix = shadowPrefix
            }
            return Proto.networkFilter(FilterName.networkRbac, f)
        }
    }

    /// The enforced rules and the dry-run (shadow) rules for one action.
    func configs(_ action: AuthorizationPolicy.Action, _ envoyAction: RBACRules.Action) -> (RBACRules?, RBACRules?) {
        let mine = policies.filter { $0.spec.action == action }
        func make(_ ps: [AccessPolicies.Named<AuthorizationPolicy>]) -> RBACRules? {
            guard !ps.isEmpty else { return nil }
            var r = RBACRules()
            r.action = envoyAction
            for p in ps {
                for (i, rule) in p.spec.rules.enumerated() {
                    if let policy = policy(rule, action) { r.policies["\(p.envoyName)-rule[\(i)]"] = policy }
                }
            }
            // An ALLOW with nothing to allow denies everything; a DENY or AUDIT with no rule matches nothing.
            return r.policies.isEmpty && action != .ALLOW ? nil : r
        }
        return (make(mine.filter { !$0.spec.dryRun }), make(mine.filter { $0.spec.dryRun }))
    }

    /// One rule: a request matches when a `from` source, a `to` operation and every `when` condition match.
    func policy(_ rule: AuthorizationPolicy.Rule, _ action: AuthorizationPolicy.Action) -> Envoy_Config_Rbac_V3_Policy? {
        if tcp && action != .DENY && needsRequest(rule) { return nil }
        var permissions: [Permission] = []
        var principals: [Principal] = []
        if !rule.to.isEmpty { permissions.append(AuthzMatch.or(rule.to.map(operation))) }
        if !rule.from.isEmpty { principals.append(AuthzMatch.or(rule.from.map(source))) }
        for c in rule.when {
            guard let a = AuthzAttribute(key: c.key), !tcp || a.isL4 else { continue }
            condition(a, c, &permissions, &principals)
        }
        var p = Envoy_Config_Rbac_V3_Policy()
        p.permissions = [AuthzMatch.and(permissions)]
        p.principals = [AuthzMatch.and(principals)]
        return p
    }

    /// Whether a rule reads anything only an HTTP request has.
    func needsRequest(_ rule: AuthorizationPolicy.Rule) -> Bool {
        rule.from.contains { !$0.requestPrincipals.isEmpty || !$0.notRequestPrincipals.isEmpty }
            || rule.to.contains { o in !(o.hosts + o.notHosts + o.methods + o.notMethods + o.paths + o.notPaths).isEmpty }
            || rule.when.contains { AuthzAttribute(key: $0.key)?.isL4 == false }
    }

    /// Every field set must match; a field matches one of its values, a `not` field none of its values.
    func source(_ s: AuthorizationPolicy.Source) -> Principal {
        var parts: [Principal] = []
        func field(_ values: [String], negate: Bool, _ make: (String) -> Principal) {
            guard !values.isEmpty else { return }
            let m = AuthzMatch.or(values.map(make))
            parts.append(negate ? AuthzMatch.not(m) : m)
        }
        field(s.principals, negate: false, AuthzMatch.principal)
        field(s.notPrincipals, negate: true, AuthzMatch.principal)
        field(s.serviceAccounts.map(serviceAccount), negate: false, AuthzMatch.principal)
        field(s.notServiceAccounts.map(serviceAccount), negate: true, AuthzMatch.principal)
        field(s.namespaces, negate: false) { AuthzMatch.namespace($0, trustDomain: trustDomain) }
        field(s.notNamespaces, negate: true) { AuthzMatch.namespace($0, trustDomain: trustDomain) }
        field(s.ipBlocks, negate: false) { var p = Principal(); p.directRemoteIp = AuthzMatch.cidr($0); return p }
        field(s.notIpBlocks, negate: true) { var p = Principal(); p.directRemoteIp = AuthzMatch.cidr($0); return p }
        field(s.remoteIpBlocks, negate: false) { var p = Principal(); p.remoteIp = AuthzMatch.cidr($0); return p }
        field(s.notRemoteIpBlocks, negate: true) { var p = Principal(); p.remoteIp = AuthzMatch.cidr($0); return p }
        if !tcp {
            field(s.requestPrincipals, negate: false) { AuthzMatch.requestPrincipal($0, issuers: issuers) }
            field(s.notRequestPrincipals, negate: true) { AuthzMatch.requestPrincipal($0, issuers: issuers) }
        }
        return AuthzMatch.and(parts)
    }

    func serviceAccount(_ nsAndName: String) -> String {
        let parts = nsAndName.split(separator: "/", maxSplits: 1)
        return parts.count == 2 ? "\(trustDomain)/ns/\(parts[0])/sa/\(parts[1])" : nsAndName
    }

    func operation(_ o: AuthorizationPolicy.Operation) -> Permission {
        var parts: [Permission] = []
        func field(_ values: [String], negate: Bool, _ make: (String) -> Permission) {
            guard !values.isEmpty else { return }
            let m = AuthzMatch.or(values.map(make))
            parts.append(negate ? AuthzMatch.not(m) : m)
        }
        if !tcp {
            field(o.hosts, negate: false, host)
            field(o.notHosts, negate: true, host)
            field(o.methods, negate: false) { var p = Permission(); p.header = AuthzMatch.header(":method", $0); return p }
            field(o.notMethods, negate: true) { var p = Permission(); p.header = AuthzMatch.header(":method", $0); return p }
            field(o.paths, negate: false, path)
            field(o.notPaths, negate: true, path)
        }
        if !o.ports.isEmpty { parts.append(servesAny(o.ports) ? AuthzMatch.anyPermission : AuthzMatch.never) }
        if !o.notPorts.isEmpty { parts.append(servesAny(o.notPorts) ? AuthzMatch.never : AuthzMatch.anyPermission) }
        return AuthzMatch.and(parts)
    }

    func servesAny(_ values: [String]) -> Bool { values.contains { Int($0).map(ports.contains) ?? false } }

    /// A host, case-insensitively, with or without a port after it.
    func host(_ v: String) -> Permission {
        var exact = Permission(); exact.header = AuthzMatch.header(":authority", v, ignoreCase: true)
        guard v != "*", !v.hasPrefix("*") else { return exact }
        let base = v.hasSuffix("*") ? String(v.dropLast()) : v
        var withPort = Permission(); withPort.header = AuthzMatch.header(":authority", base + ":*", ignoreCase: true)
        return v.hasSuffix("*") ? exact : AuthzMatch.or([exact, withPort])
    }

    func path(_ v: String) -> Permission {
        guard let m = AuthzMatch.string(v) else { return AuthzMatch.anyPermission }
        var pm = Envoy_Type_Matcher_V3_PathMatcher(); pm.path = m
        var p = Permission(); p.urlPath = pm; return p
    }

    func condition(_ a: AuthzAttribute, _ c: AuthorizationPolicy.Condition, _ permissions: inout [Permission], _ principals: inout [Principal]) {
        func principal(_ make: (String) -> Principal) {
            if !c.values.isEmpty { principals.append(AuthzMatch.or(c.values.map(make))) }
            if !c.notValues.isEmpty { principals.append(AuthzMatch.not(AuthzMatch.or(c.notValues.map(make)))) }
        }
        func permission(_ make: (String) -> Permission) {
            if !c.values.isEmpty { permissions.append(AuthzMatch.or(c.values.map(make))) }
            if !c.notValues.isEmpty { permissions.append(AuthzMatch.not(AuthzMatch.or(c.notValues.map(make)))) }
        }
        switch a {
        case let .requestHeader(name): principal { var p = Principal(); p.header = AuthzMatch.header(name, $0); return p }
        case .sourceIP: principal { var p = Principal(); p.directRemoteIp = AuthzMatch.cidr($0); return p }
        case .remoteIP: principal { var p = Principal(); p.remoteIp = AuthzMatch.cidr($0); return p }
        case .sourceNamespace: principal { AuthzMatch.namespace($0, trustDomain: trustDomain) }
        case .sourcePrincipal: principal(AuthzMatch.principal)
        case .requestPrincipal: principal { AuthzMatch.requestPrincipal($0, issuers: issuers) }
        case .requestAudiences: principal { AuthzMatch.claim(["aud"], $0) }
        case .requestPresenter: principal { AuthzMatch.claimString(["azp"], AuthzMatch.string($0)) }
        case let .requestClaim(path): principal { AuthzMatch.claim(path, $0) }
        case .destinationIP: permission { var p = Permission(); p.destinationIp = AuthzMatch.cidr($0); return p }
        case .destinationPort: permission { servesAny([$0]) ? AuthzMatch.anyPermission : AuthzMatch.never }
        case .connectionSNI: permission { v in
            var p = Permission()
            if let m = AuthzMatch.string(v) { p.requestedServerName = m } else { p.any = true }
            return p
        }
        }
    }
}
