import EnvoyAPI
import ProxyConfig
import SwiftProtobuf
import WeftCore

/// Envoy's RBAC filters (HTTP and network) into ProxyConfig's compiled rules, with Envoy's stat names (as Envoy 1.40
/// prints them) worked out here once: `http.<hcm prefix>.rbac.allowed` for the HTTP filter (`rbac.<rules prefix>.allowed`
/// with a rules prefix), `<stat_prefix>.rbac.allowed` for the network one, the shadow rules' under their own prefix
/// (`rbac.istio_dry_run_deny_.shadow_denied`), and per policy `...rbac.policy.<name>.denied` (Envoy's
/// track_per_rule_stats names, always on here).
/// Fields weft proxy does not evaluate (matchers, conditions, filter state) are refused with their path.
extension XDSConversion {
    typealias HTTPRBAC = Envoy_Extensions_Filters_Http_Rbac_V3_RBAC
    typealias NetworkRBAC = Envoy_Extensions_Filters_Network_Rbac_V3_RBAC
    typealias RBACProto = Envoy_Config_Rbac_V3_RBAC
    typealias PermissionProto = Envoy_Config_Rbac_V3_Permission
    typealias PrincipalProto = Envoy_Config_Rbac_V3_Principal

    /// An `envoy.filters.http.rbac` typed config in an HTTP connection manager whose stat prefix is `statPrefix`.
    static func httpRBAC(_ any: Google_Protobuf_Any, statPrefix: String) throws -> RBACFilterConfig {
        let f = try Convert.unpack(any, as: HTTPRBAC.self)
        try refuseUnknown(f, "matcher, shadow_matcher and track_per_rule_stats are not supported")
        let base = StatName.join("http." + statPrefix, "rbac.")
        return try rbacFilter(hasRules: f.hasRules, f.rules, hasShadow: f.hasShadowRules, f.shadowRules,
                              rulesPrefix: StatName.join(base, f.rulesStatPrefix), shadowPrefix: StatName.join(base, f.shadowRulesStatPrefix))
    }

    /// An `envoy.filters.network.rbac` typed config (checked once per connection, as Envoy's ONE_TIME_ON_FIRST_BYTE).
    static func networkRBAC(_ any: Google_Protobuf_Any) throws -> RBACFilterConfig {
        let f = try Convert.unpack(any, as: NetworkRBAC.self)
        try refuseUnknown(f, "matcher, shadow_matcher, delay_deny and enforce_on_transport_ready are not supported")
        guard f.enforcementType == .oneTimeOnFirstByte else {
            throw FieldError("only ONE_TIME_ON_FIRST_BYTE is supported", at: ["enforcement_type"])
        }
        let base = StatName.join(f.statPrefix, "rbac.")
        return try rbacFilter(hasRules: f.hasRules, f.rules, hasShadow: f.hasShadowRules, f.shadowRules,
                              rulesPrefix: base, shadowPrefix: StatName.join(base, f.shadowRulesStatPrefix))
    }

    /// A message that carries fields our trimmed protos leave out (and so weft proxy cannot honour).
    static func refuseUnknown(_ m: some SwiftProtobuf.Message, _ what: String) throws {
        if !m.unknownFields.data.isEmpty { throw FieldError("uses a field weft proxy does not know (\(what))") }
    }

    static func rbacFilter(hasRules: Bool, _ rules: RBACProto, hasShadow: Bool, _ shadow: RBACProto,
                           rulesPrefix: String, shadowPrefix: String) throws -> RBACFilterConfig {
        let enforced = hasRules ? try field("rules") { try rbacRules(rules, prefix: rulesPrefix, outcome: ("allowed", "denied")) } : nil
        let dryRun = hasShadow ? try field("shadow_rules") {
            try rbacRules(shadow, prefix: shadowPrefix, outcome: ("shadow_allowed", "shadow_denied"))
        } : nil
        return RBACFilterConfig(rules: enforced, shadowRules: dryRun)
    }

    /// Rules with Envoy's counters below `prefix` (joined as Envoy's statPrefixJoin does: `...rbac.allowed`, or
    /// `...rbac.istio_dry_run_deny_.shadow_denied` under a shadow prefix) and, per policy, `...policy.<name>.<outcome>`.
    static func rbacRules(_ r: RBACProto, prefix: String, outcome: (allowed: String, denied: String)) throws -> RBACRules {
        try refuseUnknown(r, "audit_logging_options is not supported")
        let action: RBACRules.Action
        switch r.action {
        case .allow: action = .allow
        case .deny: action = .deny
        case .log: action = .log
        case let .UNRECOGNIZED(n): throw FieldError("unknown action \(n)", at: ["action"])
        }
        let policyPrefix = StatName.join(prefix, "policy.")
        let policies = try r.policies.keys.sorted().map { name in
            try field("policies[\(name)]") {
                try rbacPolicy(name, r.policies[name]!, allowed: StatName(policyPrefix + name + "." + outcome.allowed),
                               denied: StatName(policyPrefix + name + "." + outcome.denied))
            }
        }
        return RBACRules(action: action, policies: policies, allowedStat: StatName(StatName.join(prefix, outcome.allowed)),
                         deniedStat: StatName(StatName.join(prefix, outcome.denied)))
    }

    static func rbacPolicy(_ name: String, _ p: Envoy_Config_Rbac_V3_Policy, allowed: StatName, denied: StatName) throws -> RBACPolicy {
        try refuseUnknown(p, "condition and checked_condition are not supported")
        guard !p.permissions.isEmpty else { throw FieldError("a policy needs at least one permission", at: ["permissions"]) }
        guard !p.principals.isEmpty else { throw FieldError("a policy needs at least one principal", at: ["principals"]) }
        return RBACPolicy(name: name, permissions: try each("permissions", p.permissions, permission),
                          principals: try each("principals", p.principals, principal), allowedStat: allowed, deniedStat: denied)
    }

    static func permission(_ p: PermissionProto) throws -> RBACPermission {
        switch p.rule {
        case let .andRules(s)?: return .and(try field("and_rules") { try each("rules", s.rules, permission) })
        case let .orRules(s)?: return .or(try field("or_rules") { try each("rules", s.rules, permission) })
        case let .any(b)?:
            guard b else { throw FieldError("must be true", at: ["any"]) }
            return .any
        case let .notRule(n)?: return .not(try field("not_rule") { try permission(n) })
        case let .header(h)?: return .header(try field("header") { try rbacHeader(h) })
        case let .urlPath(m)?: return .urlPath(try field("url_path") { try pathMatcher(m) })
        case let .destinationIp(c)?: return .destinationIP(try field("destination_ip") { try cidr(c) })
        case let .destinationPort(n)?:
            guard n <= 65535 else { throw FieldError("must be at most 65535", at: ["destination_port"]) }
            return .destinationPort(Int(n))
        case let .destinationPortRange(r)?:
            guard r.start >= 0, r.start <= r.end else { throw FieldError("start must be at least 0 and at most end", at: ["destination_port_range"]) }
            return .destinationPortRange(Int(r.start)..<Int(r.end))
        case let .metadata(m)?: return .metadata(try field("metadata") { try metadataMatcher(m) })
        case let .requestedServerName(m)?: return .requestedServerName(try field("requested_server_name") { try textMatcher(m) })
        case nil:
            if !p.unknownFields.data.isEmpty { throw FieldError("a permission kind weft proxy does not support (matcher)") }
            throw FieldError("a permission needs a rule (and_rules, or_rules, any, not_rule, header, url_path, destination_ip, destination_port, destination_port_range, metadata or requested_server_name)")
        }
    }

    static func principal(_ p: PrincipalProto) throws -> RBACPrincipal {
        switch p.identifier {
        case let .andIds(s)?: return .and(try field("and_ids") { try each("ids", s.ids, principal) })
        case let .orIds(s)?: return .or(try field("or_ids") { try each("ids", s.ids, principal) })
        case let .any(b)?:
            guard b else { throw FieldError("must be true", at: ["any"]) }
            return .any
        case let .notID(n)?: return .not(try field("not_id") { try principal(n) })
        case let .authenticated(a)?:
            return .authenticated(try field("authenticated") {
                a.hasPrincipalName ? try field("principal_name") { try textMatcher(a.principalName) } : nil
            })
        case let .directRemoteIp(c)?: return .directRemoteIP(try field("direct_remote_ip") { try cidr(c) })
        case let .remoteIp(c)?: return .remoteIP(try field("remote_ip") { try cidr(c) })
        case let .header(h)?: return .header(try field("header") { try rbacHeader(h) })
        case let .urlPath(m)?: return .urlPath(try field("url_path") { try pathMatcher(m) })
        case let .metadata(m)?: return .metadata(try field("metadata") { try metadataMatcher(m) })
        case nil:
            if !p.unknownFields.data.isEmpty {
                throw FieldError("a principal kind weft proxy does not support (source_ip or filter_state)")
            }
            throw FieldError("a principal needs an identifier (and_ids, or_ids, any, not_id, authenticated, direct_remote_ip, remote_ip, header, url_path or metadata)")
        }
    }
}
