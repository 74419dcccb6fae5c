import Testing
import WeftConfig

/// AuthorizationPolicy and RequestAuthentication: Istio's shapes accepted, bad input refused with field paths.
@Suite struct AccessPolicyValidationTests {
    func problems(_ kind: String, _ spec: String, annotations: String = "", apiVersion: String = "security.istio.io/v1") -> [String] {
        let doc = "apiVersion: \(apiVersion)\nkind: \(kind)\nmetadata: {name: p, namespace: shop\(annotations)}\nspec: \(spec)\n"
        do { _ = try ResourceDecoder.decode(text: doc, file: "p.yaml"); return [] } catch {
            return error.diagnostics.map { "\($0.path): \($0.message)" }
        }
    }

    func authz(_ spec: String, annotations: String = "") -> [String] { problems("AuthorizationPolicy", spec, annotations: annotations) }
    func authn(_ spec: String) -> [String] { problems("RequestAuthentication", spec) }

    @Test func acceptsIstioAuthorizationShapes() {
        #expect(authz("{}") == [])
        #expect(authz("{action: DENY}") == [])
        #expect(authz("{rules: [{}]}") == [])
        #expect(authz("""
            {selector: {matchLabels: {app: reviews}}, action: ALLOW, rules: [{from: [{source: {principals: ["cluster.local/ns/shop/sa/front", "*/sa/admin"], \
            namespaces: [shop], ipBlocks: [10.0.0.0/8, "2001:db8::/32", 127.0.0.1]}}], to: [{operation: {methods: [GET], paths: ["/api/*", "*.json", /exact], \
            ports: ["8080"], hosts: ["*.example.com"]}}], when: [{key: "request.headers[x-user]", values: [alice]}, \
            {key: "request.auth.claims[groups][0]", values: [admin]}, {key: source.ip, notValues: [10.1.0.0/16]}, {key: destination.port, values: ["80"]}]}]}
            """) == [])
        #expect(authz("{action: AUDIT, rules: [{to: [{operation: {paths: [/admin]}}]}]}", annotations: ", annotations: {istio.io/dry-run: \"true\"}") == [])
        #expect(problems("AuthorizationPolicy", "{}", apiVersion: "security.istio.io/v1beta1") == [])
        #expect(authz("{targetRefs: [{kind: Service, group: \"\", name: reviews}]}") == [])
    }

    @Test func refusesBadAuthorizationPolicies() {
        #expect(authz("{action: CUSTOM, provider: {name: ext}}") == ["spec.action: CUSTOM is not supported: Weft has no external authorizer (use ALLOW, DENY or AUDIT)"])
        #expect(authz("{action: PERMIT}") == ["spec.action: 'PERMIT' is not one of ALLOW, DENY, AUDIT, CUSTOM"])
        #expect(authz("{rules: [{when: [{key: request.colour, values: [red]}]}]}").first?.hasPrefix("spec.rules[0].when[0].key: unknown attribute 'request.colour'") == true)
        #expect(authz("{rules: [{from: [{source: {ipBlocks: [10.0.0.0/33]}}]}]}") == ["spec.rules[0].from[0].source.ipBlocks[0]: '10.0.0.0/33' is not an IP address or CIDR block (such as 10.0.0.0/16 or 2001:db8::/32)"])
        #expect(authz("{rules: [{from: [{source: {principals: [\"spiffe://cluster.local/ns/a/sa/b\"]}}]}]}") == ["spec.rules[0].from[0].source.principals[0]: a principal is written without its scheme, as trust-domain/ns/NAMESPACE/sa/ACCOUNT; got 'spiffe://cluster.local/ns/a/sa/b'"])
        #expect(authz("{rules: [{to: [{operation: {paths: [\"/a/*/b\"]}}]}]}") == ["spec.rules[0].to[0].operation.paths[0]: '/a/*/b': a wildcard '*' is only allowed alone, at the start or at the end"])
        #expect(authz("{rules: [{to: [{operation: {ports: [\"0\"]}}]}]}") == ["spec.rules[0].to[0].operation.ports[0]: '0' is not a port number (1..65535)"])
        #expect(authz("{rules: [{from: [{source: {}}]}]}") == ["spec.rules[0].from[0].source: a source must set at least one field"])
        #expect(authz("{rules: [{when: [{key: source.ip}]}]}") == ["spec.rules[0].when[0]: a condition needs values or notValues"])
        #expect(authz("{rules: [{when: [{key: source.ip, values: [not-an-ip]}]}]}").count == 1)
        #expect(authz("{selector: {matchLabels: {app: a}}, targetRefs: [{kind: Service, name: a}]}") == ["spec.targetRefs: set only one of selector and targetRefs"])
        #expect(authz("{targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]}").count == 1)
        #expect(authz("{}", annotations: ", annotations: {istio.io/dry-run: maybe}") == ["metadata.annotations.istio.io/dry-run: must be \"true\" or \"false\", got 'maybe'"])
        #expect(authz("{rules: [{to: [{operation: {paths: [api]}}]}]}") == ["spec.rules[0].to[0].operation.paths[0]: a path starts with '/' or '*', got 'api'"])
    }

    static let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#

    @Test func acceptsIstioRequestAuthenticationShapes() {
        #expect(authn("{jwtRules: [{issuer: https://issuer.test, jwksUri: \"https://issuer.test/jwks.json\"}]}") == [])
        #expect(authn("{selector: {matchLabels: {app: a}}, jwtRules: [{issuer: iss, audiences: [a, b], jwks: '\(Self.jwks)', fromHeaders: [{name: x-jwt, prefix: \"Bearer \"}], fromParams: [token], fromCookies: [session], outputPayloadToHeader: x-payload, forwardOriginalToken: true, outputClaimToHeaders: [{header: x-sub, claim: sub}]}]}") == [])
    }

    @Test func refusesBadRequestAuthentications() {
        #expect(authn("{jwtRules: [{issuer: iss}]}") == ["spec.jwtRules[0]: issuer 'iss' has no keys: set jwks (the key set inline) or jwksUri"])
        #expect(authn("{jwtRules: [{jwksUri: \"http://x/\"}]}").first == "spec.jwtRules[0].issuer: missing required field")
        #expect(authn("{jwtRules: [{issuer: iss, jwks: 'not json'}]}").first?.hasPrefix("spec.jwtRules[0].jwks: not a usable JSON Web Key Set") == true)
        #expect(authn("{jwtRules: [{issuer: iss, jwksUri: \"ftp://x/keys\"}]}") == ["spec.jwtRules[0].jwksUri: 'ftp://x/keys' is not an http:// or https:// URL"])
        #expect(authn("{jwtRules: [{issuer: iss, jwksUri: \"http://x/\"}, {issuer: iss, jwksUri: \"http://y/\"}]}") == ["spec.jwtRules[1].issuer: issuer 'iss' is already in an earlier rule"])
        #expect(authn("{jwtRules: [{issuer: iss, jwksUri: \"http://x/\", outputClaimToHeaders: [{header: \"bad header\", claim: sub}]}]}") == ["spec.jwtRules[0].outputClaimToHeaders[0].header: 'bad header' is not a valid HTTP header name"])
    }
}
