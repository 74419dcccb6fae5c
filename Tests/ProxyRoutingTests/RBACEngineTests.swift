import ProxyConfig
import ProxyRouting
import Testing
import WeftCore

/// Envoy's RBAC semantics, as tables of requests through the engine: permissions and principals, their and/or/not
/// nesting, header rules (pseudo-headers, missing headers), paths without the query, CIDR ranges, mTLS identities,
/// the JWT payload in metadata, and the actions.
@Suite struct RBACEngineTests {
    static let plaintext = ConnectionFacts(peerAddress: [10, 1, 2, 3], localAddress: [10, 0, 0, 9], localPort: 8080)
    static let mtls = ConnectionFacts(peerAddress: [10, 1, 2, 3], localAddress: [10, 0, 0, 9], localPort: 8080, serverName: "reviews.shop",
                                      peer: PeerCertificateFacts(uriSANs: ["spiffe://cluster.local/ns/shop/sa/front"]))
    static let v6 = ConnectionFacts(peerAddress: CIDRText.address("2001:db8::7"), localAddress: CIDRText.address("::1"), localPort: 9090)

    static func request(_ method: String = "GET", _ uri: String = "/", authority: String = "reviews", headers: [(String, String)] = [],
                        connection: ConnectionFacts = plaintext, payload: JSONValue? = nil) -> FilterRequest {
        var r = FilterRequest(method: method, headers: HeaderList(headers), uri: uri, authority: authority, connection: connection)
        if let payload { r.metadata.set(filter: "envoy.filters.http.jwt_authn", key: "payload", payload) }
        return r
    }

    static func policy(_ name: String, _ permissions: [RBACPermission], _ principals: [RBACPrincipal] = [.any]) -> RBACPolicy {
        RBACPolicy(name: name, permissions: permissions, principals: principals, allowedStat: StatName("p.\(name).allowed"),
                   deniedStat: StatName("p.\(name).denied"))
    }

    static func rules(_ action: RBACRules.Action, _ policies: [RBACPolicy], prefix: String = "t.") -> RBACRules {
        RBACRules(action: action, policies: policies, allowedStat: StatName(prefix + "allowed"), deniedStat: StatName(prefix + "denied"))
    }

    static func header(_ name: String, _ kind: RBACHeaderMatcher.Kind, invert: Bool = false) -> RBACHeaderMatcher {
        RBACHeaderMatcher(name: name, kind: kind, invert: invert)
    }

    static func claim(_ path: [String], _ v: ValueMatcher) -> RBACPrincipal {
        .metadata(RBACMetadataMatcher(filter: "envoy.filters.http.jwt_authn", path: ["payload"] + path, value: v))
    }

    static func cidr(_ s: String) -> CIDRText { CIDRText(s)! }

    struct Case: CustomTestStringConvertible {
        var name: String
        var permission: RBACPermission = .any
        var principal: RBACPrincipal = .any
        var request: FilterRequest
        var matches: Bool
        var testDescription: String { name }
    }

    static let payload: JSONValue = .object([("iss", .string("https://issuer.test")), ("sub", .string("alice")),
                                            ("groups", .array([.string("dev"), .string("admin")])), ("aud", .string("weft")),
                                            ("level", .number(3)), ("nested", .object([("team", .string("blue"))]))])

    static let cases: [Case] = [
        // Paths: without the query or fragment; string matchers over bytes.
        Case(name: "url_path exact ignores the query", permission: .urlPath(.exact("/a")), request: request("GET", "/a?x=1"), matches: true),
        Case(name: "url_path exact ignores the fragment", permission: .urlPath(.exact("/a")), request: request("GET", "/a#top"), matches: true),
        Case(name: "url_path prefix", permission: .urlPath(.prefix("/public/")), request: request("GET", "/public/x"), matches: true),
        Case(name: "url_path prefix, other path", permission: .urlPath(.prefix("/public/")), request: request("GET", "/private"), matches: false),
        Case(name: "url_path suffix", permission: .urlPath(.suffix(".json")), request: request("GET", "/a/b.json?q"), matches: true),
        Case(name: "url_path ignore_case", permission: .urlPath(.prefix("/ADMIN", ignoreCase: true)), request: request("GET", "/admin/x"), matches: true),
        Case(name: "url_path is case-sensitive by default", permission: .urlPath(.prefix("/ADMIN")), request: request("GET", "/admin/x"), matches: false),
        Case(name: "url_path regex full match", permission: .urlPath(.regex(try! CompiledRegex("/v[0-9]+/.*"))), request: request("GET", "/v2/x"), matches: true),
        Case(name: "url_path regex must match all", permission: .urlPath(.regex(try! CompiledRegex("/v[0-9]+"))), request: request("GET", "/v2/x"), matches: false),
        // Headers and pseudo-headers.
        Case(name: ":method exact", permission: .header(header(":method", .text(.exact("GET")))), request: request("GET"), matches: true),
        Case(name: ":method other", permission: .header(header(":method", .text(.exact("GET")))), request: request("POST"), matches: false),
        Case(name: ":authority ignore_case", permission: .header(header(":authority", .text(.exact("Reviews.Shop", ignoreCase: true)))),
             request: request(authority: "reviews.shop"), matches: true),
        Case(name: ":authority with a port, prefix", permission: .header(header(":authority", .text(.prefix("reviews:")))),
             request: request(authority: "reviews:9080"), matches: true),
        Case(name: "header present", permission: .header(header("x-debug", .present(true))), request: request(headers: [("X-Debug", "1")]), matches: true),
        Case(name: "header present, absent", permission: .header(header("x-debug", .present(true))), request: request(), matches: false),
        Case(name: "present_match false, absent", permission: .header(header("x-debug", .present(false))), request: request(), matches: true),
        Case(name: "header suffix", permission: .header(header("user-agent", .text(.suffix("/1.0")))),
             request: request(headers: [("user-agent", "curl/1.0")]), matches: true),
        Case(name: "header contains ignore_case", permission: .header(header("user-agent", .text(.contains("CURL", ignoreCase: true)))),
             request: request(headers: [("user-agent", "my-curl-x")]), matches: true),
        Case(name: "repeated header values are joined with commas", permission: .header(header("x-a", .text(.exact("1,2")))),
             request: request(headers: [("x-a", "1"), ("x-a", "2")]), matches: true),
        Case(name: "invert_match on a present header", permission: .header(header("x-a", .text(.exact("1")), invert: true)),
             request: request(headers: [("x-a", "2")]), matches: true),
        // Envoy: a missing header never matches a string matcher, inverted or not.
        Case(name: "invert_match on a missing header", permission: .header(header("x-a", .text(.exact("1")), invert: true)),
             request: request(), matches: false),
        // Nesting.
        Case(name: "not_rule", permission: .not(.urlPath(.prefix("/admin"))), request: request("GET", "/x"), matches: true),
        Case(name: "not_rule, inner matches", permission: .not(.urlPath(.prefix("/admin"))), request: request("GET", "/admin"), matches: false),
        Case(name: "and_rules all", permission: .and([.urlPath(.prefix("/a")), .header(header(":method", .text(.exact("GET"))))]),
             request: request("GET", "/a"), matches: true),
        Case(name: "and_rules one fails", permission: .and([.urlPath(.prefix("/a")), .header(header(":method", .text(.exact("GET"))))]),
             request: request("PUT", "/a"), matches: false),
        Case(name: "or_rules one", permission: .or([.urlPath(.prefix("/a")), .urlPath(.prefix("/b"))]), request: request("GET", "/b"), matches: true),
        Case(name: "or inside not inside and",
             permission: .and([.any, .not(.or([.urlPath(.exact("/x")), .urlPath(.exact("/y"))]))]), request: request("GET", "/y"), matches: false),
        // The connection's local side.
        Case(name: "destination_ip", permission: .destinationIP(cidr("10.0.0.0/24")), request: request(), matches: true),
        Case(name: "destination_ip other", permission: .destinationIP(cidr("10.0.1.0/24")), request: request(), matches: false),
        Case(name: "destination_port", permission: .destinationPort(8080), request: request(), matches: true),
        Case(name: "destination_port other", permission: .destinationPort(80), request: request(), matches: false),
        Case(name: "destination_port_range", permission: .destinationPortRange(8000..<9000), request: request(), matches: true),
        Case(name: "requested_server_name on plaintext is empty", permission: .requestedServerName(.exact("")), request: request(), matches: true),
        Case(name: "requested_server_name on TLS", permission: .requestedServerName(.suffix(".shop")), request: request(connection: mtls), matches: true),
        // The caller.
        Case(name: "direct_remote_ip v4", principal: .directRemoteIP(cidr("10.0.0.0/8")), request: request(), matches: true),
        Case(name: "direct_remote_ip v4 outside", principal: .directRemoteIP(cidr("11.0.0.0/8")), request: request(), matches: false),
        Case(name: "remote_ip is the peer", principal: .remoteIP(cidr("10.1.2.3")), request: request(), matches: true),
        Case(name: "a v4 range never matches a v6 peer", principal: .directRemoteIP(cidr("0.0.0.0/0")), request: request(connection: v6), matches: false),
        Case(name: "direct_remote_ip v6", principal: .directRemoteIP(cidr("2001:db8::/32")), request: request(connection: v6), matches: true),
        Case(name: "direct_remote_ip v6 outside", principal: .directRemoteIP(cidr("2001:db9::/32")), request: request(connection: v6), matches: false),
        Case(name: "destination_ip v6 loopback", permission: .destinationIP(cidr("::1/128")), request: request(connection: v6), matches: true),
        Case(name: "authenticated without a name, plaintext", principal: .authenticated(nil), request: request(), matches: false),
        Case(name: "authenticated without a name, mTLS", principal: .authenticated(nil), request: request(connection: mtls), matches: true),
        Case(name: "authenticated principal_name, mTLS", principal: .authenticated(.exact("spiffe://cluster.local/ns/shop/sa/front")),
             request: request(connection: mtls), matches: true),
        Case(name: "authenticated principal_name prefix", principal: .authenticated(.prefix("spiffe://cluster.local/ns/shop/")),
             request: request(connection: mtls), matches: true),
        Case(name: "authenticated another principal", principal: .authenticated(.exact("spiffe://cluster.local/ns/shop/sa/other")),
             request: request(connection: mtls), matches: false),
        Case(name: "authenticated principal_name, plaintext", principal: .authenticated(.prefix("spiffe://")), request: request(), matches: false),
        Case(name: "not_id authenticated on plaintext", principal: .not(.authenticated(nil)), request: request(), matches: true),
        Case(name: "principal header", principal: .header(header("x-user", .text(.exact("bob")))), request: request(headers: [("x-user", "bob")]), matches: true),
        // The JWT payload in metadata.
        Case(name: "metadata string", principal: claim(["sub"], .string(.exact("alice"))), request: request(payload: payload), matches: true),
        Case(name: "metadata string, other", principal: claim(["sub"], .string(.exact("bob"))), request: request(payload: payload), matches: false),
        Case(name: "metadata without a token", principal: claim(["sub"], .string(.exact("alice"))), request: request(), matches: false),
        Case(name: "metadata present", principal: claim(["iss"], .present(true)), request: request(payload: payload), matches: true),
        Case(name: "metadata present, no token", principal: claim(["iss"], .present(true)), request: request(), matches: false),
        Case(name: "metadata list one_of", principal: claim(["groups"], .listOneOf(.string(.exact("admin")))), request: request(payload: payload), matches: true),
        Case(name: "metadata list one_of, none", principal: claim(["groups"], .listOneOf(.string(.exact("ops")))), request: request(payload: payload), matches: false),
        Case(name: "metadata list matcher on a string", principal: claim(["aud"], .listOneOf(.string(.exact("weft")))), request: request(payload: payload), matches: false),
        Case(name: "metadata or: string or list (aud as a string)",
             principal: claim(["aud"], .or([.string(.exact("weft")), .listOneOf(.string(.exact("weft")))])), request: request(payload: payload), matches: true),
        Case(name: "metadata or: string or list (groups as a list)",
             principal: claim(["groups"], .or([.string(.exact("dev")), .listOneOf(.string(.exact("dev")))])), request: request(payload: payload), matches: true),
        Case(name: "metadata nested path", principal: claim(["nested", "team"], .string(.prefix("bl"))), request: request(payload: payload), matches: true),
        Case(name: "metadata path through a non-object", principal: claim(["sub", "x"], .present(true)), request: request(payload: payload), matches: false),
        Case(name: "metadata number", principal: claim(["level"], .number(3)), request: request(payload: payload), matches: true),
        Case(name: "metadata invert", principal: .metadata(RBACMetadataMatcher(filter: "envoy.filters.http.jwt_authn", path: ["payload", "sub"],
                                                                                 value: .string(.exact("alice")), invert: true)),
             request: request(payload: payload), matches: false),
        Case(name: "metadata of another filter", principal: .metadata(RBACMetadataMatcher(filter: "other", path: ["payload", "sub"], value: .present(true))),
             request: request(payload: payload), matches: false),
    ]

    @Test(arguments: cases)
    func aPolicyMatches(_ c: Case) {
        let p = Self.policy("p", [c.permission], [c.principal])
        #expect(p.matches(c.request) == c.matches)
    }

    @Test func aPolicyNeedsAPermissionAndAPrincipal() {
        let p = Self.policy("p", [.urlPath(.exact("/x")), .urlPath(.exact("/y"))], [.directRemoteIP(Self.cidr("192.168.0.0/16")), .any])
        #expect(p.matches(Self.request("GET", "/y")))
        #expect(!p.matches(Self.request("GET", "/z")))
        let noPrincipal = Self.policy("p", [.any], [.authenticated(nil)])
        #expect(!noPrincipal.matches(Self.request()))
    }

    @Test func actions() {
        let admin = Self.policy("admin", [.urlPath(.prefix("/admin"))])
        let req = Self.request("GET", "/admin/x"), other = Self.request("GET", "/home")
        let allow = Self.rules(.allow, [admin]), deny = Self.rules(.deny, [admin]), log = Self.rules(.log, [admin])
        #expect(allow.evaluate(req) == RBACDecision(allowed: true, matched: 0))
        #expect(allow.evaluate(other) == RBACDecision(allowed: false, matched: nil))
        #expect(deny.evaluate(req) == RBACDecision(allowed: false, matched: 0))
        #expect(deny.evaluate(other) == RBACDecision(allowed: true, matched: nil))
        #expect(log.evaluate(req) == RBACDecision(allowed: true, matched: 0))
        #expect(log.evaluate(other) == RBACDecision(allowed: true, matched: nil))
        // An ALLOW without policies allows nothing (Istio's allow-nothing policy).
        #expect(!Self.rules(.allow, []).evaluate(req).allowed)
        #expect(Self.rules(.deny, []).evaluate(req).allowed)
    }

    @Test func theFirstMatchingPolicyByNameDecides() {
        let rules = Self.rules(.deny, [Self.policy("ns[b]-policy[z]", [.any]), Self.policy("ns[a]-policy[y]", [.any])])
        let d = rules.evaluate(Self.request())
        #expect(rules.policyName(d) == "ns[a]-policy[y]")
        #expect(rules.policyName(rules.evaluate(Self.request()).with(matched: nil)) == "none")
    }

    @Test func aConnectionHasNoHeadersPathOrMetadata() {
        let c = ConnectionInput(Self.mtls)
        #expect(!RBACPermission.urlPath(.prefix("/")).matches(c))
        #expect(!RBACPermission.header(Self.header(":method", .present(true))).matches(c))
        #expect(RBACPermission.header(Self.header("x-a", .present(false))).matches(c))
        #expect(RBACPrincipal.authenticated(.suffix("/sa/front")).matches(c))
        #expect(!Self.claim(["sub"], .present(true)).matches(c))
        #expect(RBACPermission.destinationPort(8080).matches(c))
    }

    @Test func textMatchersCompareBytesAndFoldASCIIOnly() {
        #expect(TextMatcher.exact("ÄBC", ignoreCase: true).matches("Äbc"))
        #expect(!TextMatcher.exact("ÄBC", ignoreCase: true).matches("äbc"), "Envoy folds ASCII letters only")
        #expect(TextMatcher.contains("b-c").matches("ab-cd"))
        #expect(!TextMatcher.contains("b-c").matches("ab"))
        #expect(TextMatcher.suffix("é").matches("café"))
        #expect(!TextMatcher.exact("café").matches("cafe\u{301}"), "bytes, not canonical equivalence")
    }
}

extension RBACDecision {
    func with(matched: Int?) -> RBACDecision { RBACDecision(allowed: allowed, matched: matched) }
}

extension RBACEngineTests.Case: @unchecked Sendable {}
