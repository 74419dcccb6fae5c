import EnvoyAPI
import ProxyConfig
import ProxyRouting
import Testing
import WeftCore
import XDSClient

/// "Request X to workload W is allowed or denied": AuthorizationPolicies through the control plane's translation,
/// converted by XDSClient, decided by the inbound listener's own filter chain. No sockets.
@Suite struct AuthzRoutingTests {
    static let inbound = "inbound|0.0.0.0:15006"

    static func chain(_ policies: String) throws -> [any HTTPFilter] {
        let s = try Fixture.snapshot(Fixture.mesh + "\n---\n" + policies)
        guard case let .http(table, _)? = s.listeners[inbound]?.kind else {
            Issue.record("no inbound HTTP listener; listeners: \(s.listeners.keys.sorted())")
            return []
        }
        return try #require(s.routeTables[table]).filters
    }

    static func decide(_ chain: [any HTTPFilter], _ method: String, _ path: String, headers: [(String, String)] = [],
                       worker: WorkerFilterState = WorkerFilterState()) -> Int {
        var r = FilterRequest(method: method, headers: HeaderList(headers), uri: path, authority: "productpage:9080",
                              connection: ConnectionFacts(peerAddress: [127, 0, 0, 2], localAddress: [127, 0, 0, 1], localPort: 15006),
                              worker: worker)
        for f in chain {
            if case let .reply(reply) = f.decodeHeaders(&r, now: .now, random: { _ in 0 }) { return reply.status }
        }
        return 200
    }

    @Test func aDenyPolicyOnPathsAndMethods() throws {
        let chain = try Self.chain("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: no-admin-writes, namespace: shop}
        spec:
          selector: {matchLabels: {app: productpage}}
          action: DENY
          rules:
          - to: [{operation: {paths: ["/admin*"], methods: [POST, DELETE]}}]
        """)
        #expect(Self.decide(chain, "POST", "/admin/users") == 403)
        #expect(Self.decide(chain, "GET", "/admin/users") == 200)
        #expect(Self.decide(chain, "POST", "/home?x=/admin") == 200)
    }

    @Test func anAllowPolicyDeniesWhatItDoesNotName() throws {
        let chain = try Self.chain("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: only-health, namespace: shop}
        spec:
          selector: {matchLabels: {app: productpage}}
          action: ALLOW
          rules:
          - to: [{operation: {paths: [/health]}}]
          - from: [{source: {ipBlocks: [127.0.0.0/8]}}]
            to: [{operation: {methods: [GET]}}]
        """)
        #expect(Self.decide(chain, "PUT", "/health") == 200)
        #expect(Self.decide(chain, "GET", "/anything") == 200, "from loopback")
        #expect(Self.decide(chain, "PUT", "/anything") == 403)
    }

    @Test func aDryRunPolicyCountsButDoesNotDeny() throws {
        let chain = try Self.chain("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: would-deny
          namespace: shop
          annotations: {istio.io/dry-run: "true"}
        spec:
          selector: {matchLabels: {app: productpage}}
          action: DENY
          rules: [{}]
        """)
        let worker = WorkerFilterState()
        #expect(Self.decide(chain, "GET", "/", worker: worker) == 200)
        let shadowDenied = worker.counters.filter { $0.key.text.hasSuffix("shadow_denied") }.values.reduce(0, +)
        #expect(shadowDenied > 0, "counters: \(worker.counters.keys.map(\.text).sorted())")
    }
}
