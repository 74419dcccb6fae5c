import ProxyConfig
import WeftCore

/// One RBAC filter instance run on a request or a connection, as Envoy's RBAC filters do it: the shadow rules
/// first (counted and logged, never enforced), then the enforced rules (counted; a denial logged at info with the
/// policy that decided). Counters go to the worker's state; nothing here allocates unless it logs.
public enum RBACCheck {
    /// The name of the denying policy ("none" when an ALLOW matched nothing), or nil when the request may go on.
    /// `subject` says what was checked ("request", "connection"); `describe` gives fields for the log line, read
    /// only when something is logged.
    public static func run<I: AuthorizationInput>(_ filter: RBACFilterConfig, _ input: I, worker: WorkerFilterState, subject: String,
                                                  describe: () -> [String: String]) -> String? {
        if let shadow = filter.shadowRules {
            let d = shadow.evaluate(input)
            count(shadow, d, worker)
            if let line = shadowLine(shadow, d) { worker.log(FilterLogEvent(.info, line, describe())) }
        }
        guard let rules = filter.rules else { return nil }
        let d = rules.evaluate(input)
        count(rules, d, worker)
        if !d.allowed {
            var fields = describe()
            fields["policy"] = rules.policyName(d)
            worker.log(FilterLogEvent(.info, "\(subject) denied by RBAC", fields))
            return rules.policyName(d)
        }
        if rules.action == .log, let m = d.matched {
            var fields = describe()
            fields["policy"] = rules.policies[m].name
            worker.log(FilterLogEvent(.info, "audit: policy \(rules.policies[m].name) matched", fields))
        }
        return nil
    }

    static func count(_ rules: RBACRules, _ d: RBACDecision, _ worker: WorkerFilterState) {
        worker.count(d.allowed ? rules.allowedStat : rules.deniedStat)
        if let m = d.matched {
            let p = rules.policies[m]
            worker.count(d.allowed ? p.allowedStat : p.deniedStat)
        }
    }

    /// What a dry-run decision logs: a policy that matched, or an ALLOW that nothing matched.
    static func shadowLine(_ rules: RBACRules, _ d: RBACDecision) -> String? {
        let verdict = d.allowed ? "allow" : "deny"
        switch (rules.action, d.matched) {
        case let (.log, m?): return "dry-run: audit policy \(rules.policies[m].name) matched"
        case let (_, m?): return "dry-run: policy \(rules.policies[m].name) would \(verdict)"
        case (.allow, nil): return "dry-run: no ALLOW policy matched, would deny"
        case (.deny, nil), (.log, nil): return nil
        }
    }

    /// Log fields for a connection: the peer's address and, over mTLS, its identity.
    public static func describe(_ c: ConnectionFacts) -> [String: String] {
        var fields: [String: String] = [:]
        if let a = c.peerAddress { fields["peer"] = CIDRText(bytes: a, prefixLength: a.count * 8).addressText }
        if let p = c.peer { fields["peer_identity"] = p.uriSANs.first ?? p.dnsSANs.first ?? "" }
        if !c.serverName.isEmpty { fields["sni"] = c.serverName }
        return fields
    }
}
