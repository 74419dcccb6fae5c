import NIOCore
import NIOEmbedded
import ProxyConfig
import ProxyRouting
import Testing
import WeftCore
import WeftJWT
@testable import ProxyHTTP
@testable import ProxyUpstream

/// Authorization on the proxy's own pipeline (embedded channels): the RBAC filter's denial as the caller sees it,
/// filter header edits reaching the upstream request, and network RBAC closing a connection before anything is
/// proxied.
@Suite struct AuthorizationEmbeddedTests {
    typealias Proxy = ExchangeEmbeddedTests.Proxy

    static func rules(_ action: RBACRules.Action, _ policies: [RBACPolicy], prefix: String) -> RBACRules {
        RBACRules(action: action, policies: policies, allowedStat: StatName(prefix + "allowed"), deniedStat: StatName(prefix + "denied"))
    }

    static func policy(_ name: String, _ permission: RBACPermission, _ principal: RBACPrincipal = .any) -> RBACPolicy {
        RBACPolicy(name: name, permissions: [permission], principals: [principal], allowedStat: StatName("p.\(name).allowed"),
                   deniedStat: StatName("p.\(name).denied"))
    }

    static let denyAdmin = RBACSettings(instances: [RBACFilterConfig(rules: rules(.deny, [policy("admin", .urlPath(.prefix("/admin")))],
                                                                                  prefix: "http.l.rbac."), shadowRules: nil)])

    @Test func aDeniedRequestIs403WithTheRBACFlagAndNoUpstream() throws {
        let p = try Proxy(listenerWide: [RBACFilter.name: Self.denyAdmin])
        try p.send("GET /admin/users?x=1 HTTP/1.1\r\nHost: reviews\r\n\r\n")
        let answer = try p.answered()
        #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden"), "\(answer)")
        #expect(answer.contains("x-weft-response-flags: RBAC") && answer.hasSuffix("\r\n\r\nRBAC: access denied"), "\(answer)")
        #expect(p.upstreams.channels.isEmpty)
        try p.send(ExchangeEmbeddedTests.get)
        #expect(try p.upstream(0).hasPrefix("GET /r HTTP/1.1"))
        #expect(p.worker.filterState.counters[StatName("http.l.rbac.denied")] == 1)
        #expect(p.worker.filterState.counters[StatName("http.l.rbac.allowed")] == 1)
    }

    @Test func thePeersAddressIsKnownToTheRules() throws {
        let fromCaller = RBACSettings(instances: [RBACFilterConfig(rules: Self.rules(.allow, [Self.policy("local", .any, .directRemoteIP(CIDRText("127.0.0.2")!))],
                                                                                     prefix: "http.l.rbac."), shadowRules: nil)])
        let p = try Proxy(listenerWide: [RBACFilter.name: fromCaller])
        try p.send(ExchangeEmbeddedTests.get)
        #expect(p.upstreams.channels.count == 1, "127.0.0.2 is allowed")
    }

    @Test func filterHeaderEditsReachTheUpstreamRequest() throws {
        // A JWT filter whose provider writes x-jwt-sub: a caller's own x-jwt-sub is removed before the request goes
        // up (Envoy sanitizes the headers it writes), even though no token was sent.
        let keys = try JWKS(json: #"{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","kid":"k"}]}"#)
        let provider = JWTProvider(name: "p", issuer: "https://issuer.test", keys: keys,
                                   claimToHeaders: [JWTClaimToHeader(header: "x-jwt-sub", claim: "sub")])
        let jwt = JWTAuthnSettings(providers: [provider], rules: [JWTRequirementRule(match: RouteMatch(path: .prefix("/")), requirement:
            .any([.provider("p", audiences: nil)], allowMissing: true, allowMissingOrFailed: false))], statPrefix: "http.l.")
        let p = try Proxy(listenerWide: [JWTAuthnFilter.name: jwt])
        try p.send("GET /r HTTP/1.1\r\nHost: reviews\r\nx-jwt-sub: mallory\r\nx-other: kept\r\n\r\n")
        let up = try p.upstream(0).lowercased()
        #expect(!up.contains("x-jwt-sub") && up.contains("x-other: kept"), "\(up)")
        try p.respond(0, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        #expect(try p.answered().hasPrefix("HTTP/1.1 200 OK"))
        // A token that does not verify: 401 with Envoy's text and challenge.
        try p.send("GET /r?a=b HTTP/1.1\r\nHost: reviews\r\nAuthorization: Bearer not-a-jwt\r\n\r\n")
        let answer = try p.answered()
        #expect(answer.contains("HTTP/1.1 401 Unauthorized"), "\(answer)")
        #expect(answer.contains(#"www-authenticate: Bearer realm="http://reviews/r?a=b", error="invalid_token""#), "\(answer)")
    }

    @Test func networkRBACClosesADeniedConnectionOnItsFirstBytes() throws {
        let denyAll = RBACFilterConfig(rules: Self.rules(.allow, [], prefix: "l.rbac."), shadowRules: nil)
        let p = try Proxy(networkRBAC: [denyAll])
        try? p.send(ExchangeEmbeddedTests.get)
        #expect(!p.caller.isActive)
        #expect(try p.answered().isEmpty && p.upstreams.channels.isEmpty)
        #expect(p.worker.filterState.counters[StatName("l.rbac.denied")] == 1)
    }

    @Test func networkRBACClosesADeniedTCPConnectionBeforeConnectingUpstream() throws {
        let loop = EmbeddedEventLoop()
        let worker = Worker(loop: loop)
        var listener = ListenerConfig(name: "t", host: "127.0.0.1", port: 15002, kind: .tcp(clusters: [WeightedCluster(name: "c")], statPrefix: "t"))
        listener.networkRBAC = [RBACFilterConfig(rules: Self.rules(.deny, [Self.policy("all", .any)], prefix: "inbound_tcp.rbac."), shadowRules: nil)]
        let caller = EmbeddedChannel(loop: loop)
        try ListenerPipelines.configure(caller, listener: listener, worker: worker, guard: ListenerGuard())
        try caller.connect(to: SocketAddress(ipAddress: "127.0.0.2", port: 40000)).wait()
        #expect(!caller.isActive, "closed right after accept")
        #expect(worker.filterState.counters[StatName("inbound_tcp.rbac.denied")] == 1)
        #expect(worker.filterState.counters[StatName("p.all.denied")] == 1)
    }
}
