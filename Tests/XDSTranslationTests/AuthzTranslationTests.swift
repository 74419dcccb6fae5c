import EnvoyAPI
import SwiftProtobuf
import Testing
import WeftConfig
import WeftCore
import WeftModel
import XDSTranslation

/// AuthorizationPolicy and RequestAuthentication on a workload's inbound listeners, as Envoy gets them.
@Suite struct AuthzTranslationTests {
    static func state(_ policies: String, jwks: [String: String] = [:]) throws -> MeshState {
        var m = try MutualTLSTranslationTests.state("---\n" + policies)
        m.access.fetchedJWKS = jwks
        return m
    }

    static func httpFilters(_ mesh: MeshState, proxy: ProxyNode = MutualTLSTranslationTests.server) throws
        -> [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter] {
        let l = try #require(Translator.translate(mesh: mesh, proxy: proxy).listeners.first { $0.name.hasPrefix("inbound|") })
        let hcm = try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
            unpackingAny: try #require(l.filterChains.first?.filters.last?.typedConfig))
        return hcm.httpFilters
    }

    static func rbac(_ f: Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter) throws -> Envoy_Extensions_Filters_Http_Rbac_V3_RBAC {
        try Envoy_Extensions_Filters_Http_Rbac_V3_RBAC(unpackingAny: f.typedConfig)
    }

    static func policy(_ name: String, _ spec: String, ns: String = "default", annotations: String = "") -> String {
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: \(name), namespace: \(ns)\(annotations)}\nspec: \(spec)\n---\n"
    }

    @Test func noPolicyNoFilter() throws {
        #expect(try Self.httpFilters(Self.state("")).map(\.name) == [EnvoyFilterName.fault, EnvoyFilterName.cors, EnvoyFilterName.router])
    }

    @Test func filtersComeInIstiosOrderWithIstiosPolicyNames() throws {
        let mesh = try Self.state(Self.policy("allow-get", "{rules: [{to: [{operation: {methods: [GET]}}]}]}")
            + Self.policy("deny-admin", "{action: DENY, rules: [{to: [{operation: {paths: [/admin]}}]}]}", ns: "istio-system")
            + Self.policy("audit", "{action: AUDIT, rules: [{}]}")
            + Self.policy("other", "{selector: {matchLabels: {app: other}}, action: DENY, rules: [{}]}"))
        let filters = try Self.httpFilters(mesh)
        #expect(filters.map(\.name) == [EnvoyFilterName.rbac, EnvoyFilterName.rbac, EnvoyFilterName.rbac, EnvoyFilterName.fault, EnvoyFilterName.cors, EnvoyFilterName.router])
        let configs = try filters.prefix(3).map(Self.rbac)
        #expect(configs.map(\.rules.action) == [.log, .deny, .allow])
        #expect(configs[1].rules.policies.keys.sorted() == ["ns[istio-system]-policy[deny-admin]-rule[0]"])
        #expect(configs[2].rules.policies.keys.sorted() == ["ns[default]-policy[allow-get]-rule[0]"])
        let method = try #require(configs[2].rules.policies.values.first?.permissions.first)
        #expect(method.header.name == ":method" && method.header.stringMatch.exact == "GET")
    }

    @Test func allowWithoutRulesDeniesAllAndDenyWithoutRulesIsLeftOut() throws {
        let filters = try Self.httpFilters(Self.state(Self.policy("nothing", "{}") + Self.policy("deny-nothing", "{action: DENY}")))
        #expect(filters.map(\.name).filter { $0 == EnvoyFilterName.rbac }.count == 1)
        let allow = try Self.rbac(filters[0])
        #expect(allow.hasRules && allow.rules.action == .allow && allow.rules.policies.isEmpty)
    }

    @Test func dryRunIsShadowOnly() throws {
        let filters = try Self.httpFilters(Self.state(Self.policy("dry", "{action: DENY, rules: [{}]}", annotations: ", annotations: {istio.io/dry-run: \"true\"}")))
        let deny = try Self.rbac(filters[0])
        #expect(!deny.hasRules && deny.hasShadowRules && deny.shadowRules.action == .deny && deny.shadowRulesStatPrefix == "istio_dry_run_deny_")
    }

    @Test func principalsNamespacesAndPortsBecomeEnvoyMatchers() throws {
        let filters = try Self.httpFilters(Self.state(Self.policy("p", """
            {rules: [{from: [{source: {principals: ["cluster.local/ns/shop/sa/front"], namespaces: [shop]}}], to: [{operation: {ports: ["8080"]}}]}, \
            {to: [{operation: {ports: ["1234"]}}]}]}
            """)))
        let allow = try Self.rbac(filters[0])
        let p0 = try #require(allow.rules.policies["ns[default]-policy[p]-rule[0]"])
        let ids = p0.principals[0].andIds.ids
        #expect(ids[0].authenticated.principalName.exact == "spiffe://cluster.local/ns/shop/sa/front")
        #expect(ids[1].authenticated.principalName.prefix == "spiffe://cluster.local/ns/shop/")
        // 8080 is the sidecar's inbound port: the port condition holds; 1234 is not served: it never does.
        #expect(p0.permissions[0].any)
        let p1 = try #require(allow.rules.policies["ns[default]-policy[p]-rule[1]"])
        #expect(p1.permissions[0].notRule.any)
    }

    @Test func tcpPortsGetNetworkRBACWithOnlyWhatTheConnectionShows() throws {
        var proxy = MutualTLSTranslationTests.server
        proxy.inbound = [.init(listen: HostPort(host: "10.0.0.1", port: 8080), app: HostPort(host: "127.0.0.1", port: 9080), tcp: true)]
        let mesh = try Self.state(Self.policy("deny-bad", "{action: DENY, rules: [{from: [{source: {principals: [\"*/sa/bad\"], requestPrincipals: [\"*\"]}}]}]}")
            + Self.policy("allow-get", "{rules: [{to: [{operation: {methods: [GET]}}]}]}"))
        let l = try #require(Translator.translate(mesh: mesh, proxy: proxy).listeners.first { $0.name.hasPrefix("inbound|") })
        let filters = l.filterChains[0].filters.filter { $0.name != EnvoyFilterName.connectionLimit }
        #expect(filters.map(\.name) == [EnvoyFilterName.networkRbac, EnvoyFilterName.networkRbac, EnvoyFilterName.tcpProxy])
        let deny = try Envoy_Extensions_Filters_Network_Rbac_V3_RBAC(unpackingAny: filters[0].typedConfig)
        // The DENY rule keeps its principal and drops the request principal (it denies more, as Istio does).
        let p = try #require(deny.rules.policies.values.first)
        #expect(p.principals[0].authenticated.principalName.suffix == "/sa/bad")
        // The ALLOW rule needs a request: on TCP it allows nothing.
        let allow = try Envoy_Extensions_Filters_Network_Rbac_V3_RBAC(unpackingAny: filters[1].typedConfig)
        #expect(allow.rules.action == .allow && allow.rules.policies.isEmpty)
    }

    static let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#

    static func authn(_ rule: String) -> String {
        "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt}\nspec: {jwtRules: [\(rule)]}\n---\n"
    }

    @Test func requestAuthenticationBecomesJWTAuthnWithInlineKeys() throws {
        let jwks = Self.jwks
        let mesh = try Self.state(Self.authn("{issuer: https://a.test, jwksUri: \"http://keys.test/a\", audiences: [api], outputClaimToHeaders: [{header: x-sub, claim: sub}]}, {issuer: b, jwksUri: \"http://keys.test/b\"}"),
                                  jwks: ["http://keys.test/a": jwks])
        let filters = try Self.httpFilters(mesh)
        #expect(filters.first?.name == EnvoyFilterName.jwtAuthn)
        let c = try Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication(unpackingAny: filters[0].typedConfig)
        let a = try #require(c.providers["https://a.test"])
        #expect(a.localJwks.inlineString == jwks && a.audiences == ["api"] && !a.forward && a.payloadInMetadata == "payload")
        #expect(a.claimToHeaders.map(\.headerName) == ["x-sub"])
        // Not fetched (yet): keys nobody holds, so its tokens are refused.
        #expect(c.providers["b"]?.localJwks.inlineString.contains("weft-unfetched") == true)
        let any = c.rules[0].requires.requiresAny.requirements
        #expect(any.map(\.providerName) == ["https://a.test", "b", ""])
        #expect(any.last.map { if case .allowMissing? = $0.requiresType { return true } else { return false } } == true)
    }

    @Test func requestPrincipalsSplitAtTheKnownIssuer() throws {
        let mesh = try Self.state(Self.authn("{issuer: \"https://issuer.test/realm\", jwks: '\(Self.jwks)'}")
            + Self.policy("p", "{rules: [{from: [{source: {requestPrincipals: [\"https://issuer.test/realm/alice\"]}}]}]}"))
        let filters = try Self.httpFilters(mesh)
        let allow = try Self.rbac(try #require(filters.first { $0.name == EnvoyFilterName.rbac }))
        let ids = try #require(allow.rules.policies.values.first).principals[0].andIds.ids
        #expect(ids.map { $0.metadata.path.map(\.key) } == [["payload", "iss"], ["payload", "sub"]])
        #expect(ids.map(\.metadata.value.stringMatch.exact) == ["https://issuer.test/realm", "alice"])
    }
}
