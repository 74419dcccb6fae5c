import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftModel

typealias JwtAuthentication = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication
typealias JwtProvider = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider
typealias JwtRequirement = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtRequirement

/// A workload's RequestAuthentications as Envoy's `jwt_authn` filter, with Istio's semantics for stock Envoy:
/// one provider per issuer (named by it), keys always inline (the control plane fetches `jwksUri`, so proxies
/// never reach out), and one rule requiring any provider or no token at all: a token that no provider verifies
/// is refused (401), a request without one passes on to authorization. The verified payload goes into the
/// request's metadata, where the RBAC rules for request principals and claims read it.
enum JWTAuthnBuilder {
    /// A key set nobody holds the private key of: what a provider gets while its `jwksUri` cannot be fetched,
    /// so its tokens are refused (Istio does the same) instead of the policy disappearing.
    static let unusableJWKS = #"{"keys":[{"kty":"RSA","alg":"RS256","kid":"weft-unfetched","e":"AQAB","n":"v_xpy-d8I4ziQu2nU4kjLqeWGB85PJdImZU2U19Vgm9_nTccgRYRDvipYGqdxJDZUANqsXM6YEEBvmVbIGB9rBPBXsLDKmFtLvwJAWNqHqULlilc2bcKoRhUQm3Y6SCdP83hbapb7zZuNf_oz4IBOzWSxKBLz9jrCfdDfnZR5j71B_GjTgJtcQfx35VpWXhJldygvcjjWwGWWgPcO_hePlftOMBRaAU-O4M_Ba5DHIS8PZ3RMnH_jQ4Rmm12CnHPciqxeGcDJoaynFO1ghaPIIMBXZu62KT8bhyr4TcZNs0kDo2oo7rHCjeQo-k7I-EUAO55t0yyDftcQw8N-UxzvQ"}]}"#

    /// The filter for a workload, or nil when no RequestAuthentication applies to it.
    static func filter(mesh: MeshState, proxy: ProxyNode) -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter? {
        let policies = mesh.access.authentication(namespace: proxy.namespace, labels: proxy.labels)
        var config = JwtAuthentication()
        var names: [String] = []
        for p in policies {
            for rule in p.spec.jwtRules where !names.contains(rule.issuer) {
                names.append(rule.issuer)
                config.providers[rule.issuer] = provider(rule, jwks: mesh.access.jwks(rule) ?? unusableJWKS)
            }
        }
        guard !names.isEmpty else { return nil }
        var any = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtRequirementOrList()
        any.requirements = names.map { name in var r = JwtRequirement(); r.providerName = name; return r }
        var missing = JwtRequirement()
        missing.allowMissing = .init()
        any.requirements.append(missing)
        var rule = Envoy_Extensions_Filters_Http_JwtAuthn_V3_RequirementRule()
        var match = Envoy_Config_Route_V3_RouteMatch()
        match.prefix = "/"
        rule.match = match
        var requires = JwtRequirement()
        requires.requiresAny = any
        rule.requires = requires
        config.rules = [rule]
        return Proto.typedFilter(FilterName.jwtAuthn, config)
    }

    static func provider(_ rule: RequestAuthentication.JWTRule, jwks: String) -> JwtProvider {
        var p = JwtProvider()
        p.issuer = rule.issuer
        p.audiences = rule.audiences
        var source = Envoy_Config_Core_V3_DataSource()
        source.inlineString = jwks
        p.localJwks = source
        p.forward = rule.forwardOriginalToken
        p.fromHeaders = rule.fromHeaders.map { h in
            var j = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtHeader()
            j.name = h.name
            j.valuePrefix = h.prefix
            return j
        }
        p.fromParams = rule.fromParams
        p.fromCookies = rule.fromCookies
        if let h = rule.outputPayloadToHeader { p.forwardPayloadHeader = h }
        p.payloadInMetadata = JWTMetadata.payloadKey
        p.claimToHeaders = rule.outputClaimToHeaders.map { c in
            var j = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtClaimToHeader()
            j.headerName = c.header
            j.claimName = c.claim
            return j
        }
        return p
    }
}
