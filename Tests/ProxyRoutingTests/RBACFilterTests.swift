import ProxyConfig
import ProxyRouting
import Synchronization
import Testing
import WeftCore

/// The RBAC HTTP filter as Istio configures it: instances in order (AUDIT, DENY, ALLOW), shadow rules that count
/// and log but never enforce, Envoy's counters and our per-policy ones, and the denial Envoy answers with.
@Suite struct RBACFilterTests {
    typealias T = RBACEngineTests

    /// A worker whose log lines are kept.
    final class Log: Sendable {
        let lines = Mutex<[FilterLogEvent]>([])
        var all: [FilterLogEvent] { lines.withLock { $0 } }
        func worker() -> WorkerFilterState { WorkerFilterState { e in self.lines.withLock { $0.append(e) } } }
    }

    static func instance(_ action: RBACRules.Action, _ policies: [RBACPolicy], shadow: Bool = false, prefix: String = "http.in.rbac.")
        -> RBACFilterConfig {
        let rules = RBACRules(action: action, policies: policies.map { p in
            RBACPolicy(name: p.name, permissions: p.permissions, principals: p.principals,
                       allowedStat: StatName(prefix + "policy.\(p.name)." + (shadow ? "shadow_allowed" : "allowed")),
                       deniedStat: StatName(prefix + "policy.\(p.name)." + (shadow ? "shadow_denied" : "denied")))
        }, allowedStat: StatName(prefix + (shadow ? "shadow_allowed" : "allowed")), deniedStat: StatName(prefix + (shadow ? "shadow_denied" : "denied")))
        return shadow ? RBACFilterConfig(rules: nil, shadowRules: rules) : RBACFilterConfig(rules: rules, shadowRules: nil)
    }

    static let admin = T.policy("ns[shop]-policy[admin]-rule[0]", [.urlPath(.prefix("/admin"))])
    static let fromFront = T.policy("ns[shop]-policy[front]-rule[0]", [.any], [.authenticated(.suffix("/sa/front"))])

    func run(_ instances: [RBACFilterConfig], _ request: FilterRequest, worker: WorkerFilterState) -> FilterVerdict {
        let f = RBACFilter(settings: RBACSettings(instances: instances))!
        var r = request
        r = FilterRequest(method: r.method, headers: r.headers, uri: r.uri, authority: r.authority, connection: r.connection, worker: worker)
        return f.decodeHeaders(&r, now: .now, random: { _ in 0 })
    }

    @Test func aDeniedRequestGets403AndTheDenyingPolicyIsCountedAndLogged() {
        let log = Log(), worker = log.worker()
        let deny = Self.instance(.deny, [Self.admin])
        #expect(run([deny], T.request("GET", "/admin/users"), worker: worker)
                == .reply(LocalReply(status: 403, flag: .rbacDenied, body: "RBAC: access denied")))
        #expect(run([deny], T.request("GET", "/home"), worker: worker) == .proceed)
        #expect(worker.counters[StatName("http.in.rbac.denied")] == 1)
        #expect(worker.counters[StatName("http.in.rbac.allowed")] == 1)
        #expect(worker.counters[StatName("http.in.rbac.policy.ns[shop]-policy[admin]-rule[0].denied")] == 1)
        let line = log.all.first
        #expect(line?.level == .info && line?.message == "request denied by RBAC")
        #expect(line?.fields["policy"] == "ns[shop]-policy[admin]-rule[0]" && line?.fields["path"] == "/admin/users")
        #expect(log.all.count == 1, "an allowed request logs nothing")
    }

    @Test func anAllowWithoutPoliciesDeniesEverythingWithPolicyNone() {
        let log = Log(), worker = log.worker()
        #expect(run([Self.instance(.allow, [])], T.request(), worker: worker) != .proceed)
        #expect(log.all.first?.fields["policy"] == "none")
    }

    @Test func instancesRunInOrderAndTheFirstDenialStops() {
        let worker = WorkerFilterState()
        let audit = Self.instance(.log, [Self.admin], prefix: "http.in.rbac.audit_")
        let deny = Self.instance(.deny, [Self.admin], prefix: "http.in.rbac.deny_")
        let allow = Self.instance(.allow, [Self.fromFront], prefix: "http.in.rbac.allow_")
        // Denied by DENY: the ALLOW after it is not evaluated.
        #expect(run([audit, deny, allow], T.request("GET", "/admin", connection: T.mtls), worker: worker) != .proceed)
        #expect(worker.counters[StatName("http.in.rbac.audit_allowed")] == 1, "LOG always allows")
        #expect(worker.counters[StatName("http.in.rbac.deny_denied")] == 1)
        #expect(worker.counters[StatName("http.in.rbac.allow_allowed")] == nil)
        // Front over mTLS elsewhere: allowed by ALLOW.
        #expect(run([audit, deny, allow], T.request("GET", "/home", connection: T.mtls), worker: worker) == .proceed)
        #expect(worker.counters[StatName("http.in.rbac.allow_allowed")] == 1)
        #expect(worker.counters[StatName("http.in.rbac.allow_policy.ns[shop]-policy[front]-rule[0].allowed")] == 1)
        // Plaintext: no identity, not allowed.
        #expect(run([audit, deny, allow], T.request("GET", "/home"), worker: worker) != .proceed)
        #expect(worker.counters[StatName("http.in.rbac.allow_denied")] == 1)
    }

    @Test func theAuditActionLogsTheMatchingPolicy() {
        let log = Log()
        #expect(run([Self.instance(.log, [Self.admin])], T.request("GET", "/admin"), worker: log.worker()) == .proceed)
        #expect(log.all.map(\.message) == ["audit: policy ns[shop]-policy[admin]-rule[0] matched"])
    }

    @Test func shadowRulesCountAndLogButNeverEnforce() {
        let log = Log(), worker = log.worker()
        let dryDeny = Self.instance(.deny, [Self.admin], shadow: true, prefix: "http.in.rbac.istio_dry_run_deny_")
        let dryAllow = Self.instance(.allow, [Self.fromFront], shadow: true, prefix: "http.in.rbac.istio_dry_run_allow_")
        #expect(run([dryDeny, dryAllow], T.request("GET", "/admin"), worker: worker) == .proceed)
        #expect(worker.counters[StatName("http.in.rbac.istio_dry_run_deny_shadow_denied")] == 1)
        #expect(worker.counters[StatName("http.in.rbac.istio_dry_run_deny_policy.ns[shop]-policy[admin]-rule[0].shadow_denied")] == 1)
        #expect(worker.counters[StatName("http.in.rbac.istio_dry_run_allow_shadow_denied")] == 1)
        #expect(worker.counters[StatName("http.in.rbac.allowed")] == nil, "shadow-only filters enforce nothing and count no enforced decision")
        #expect(log.all.map(\.message) == ["dry-run: policy ns[shop]-policy[admin]-rule[0] would deny",
                                           "dry-run: no ALLOW policy matched, would deny"])
        #expect(run([dryAllow], T.request("GET", "/", connection: T.mtls), worker: worker) == .proceed)
        #expect(log.all.last?.message == "dry-run: policy ns[shop]-policy[front]-rule[0] would allow")
        #expect(worker.counters[StatName("http.in.rbac.istio_dry_run_allow_shadow_allowed")] == 1)
    }

    @Test func shadowAndEnforcedRulesInOneInstance() {
        let worker = WorkerFilterState()
        var both = Self.instance(.allow, [Self.fromFront])
        both.shadowRules = Self.instance(.deny, [Self.admin], shadow: true).shadowRules
        #expect(run([both], T.request("GET", "/admin", connection: T.mtls), worker: worker) == .proceed)
        #expect(worker.counters[StatName("http.in.rbac.shadow_denied")] == 1)
        #expect(worker.counters[StatName("http.in.rbac.allowed")] == 1)
    }

    @Test func aFilterWithoutInstancesIsNoFilter() {
        #expect(RBACFilter(settings: RBACSettings(instances: [])) == nil)
        #expect(RBACFilter(settings: FaultPolicy()) == nil)
    }
}
