import EnvoyAPI
import Foundation
import ProxyConfig
import SwiftProtobuf
import WeftJWT

/// Envoy's JWT authentication filter into ProxyConfig's settings: each provider's key set parsed here (a key set
/// that does not parse refuses the listener), where it looks for tokens (Envoy's defaults when none is named),
/// what a verified token turns into, and the requirement rules. Keys must be inline: weft control fetches
/// `jwksUri` itself, so a proxy never reaches out.
extension XDSConversion {
    typealias JwtAuthenticationProto = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication
    typealias JwtProviderProto = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider
    typealias JwtRequirementProto = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtRequirement

    /// The filter's typed config in an HTTP connection manager whose stat prefix is `statPrefix`.
    static func jwtAuthn(_ any: Google_Protobuf_Any, statPrefix: String) throws -> JWTAuthnSettings {
        let c = try Convert.unpack(any, as: JwtAuthenticationProto.self)
        try refuseUnknown(c, "filter_state_rules, requirement_map and strip_failure_response are not supported")
        let providers = try c.providers.keys.sorted().map { name in
            try field("providers[\(name)]") { try jwtProvider(name, c.providers[name]!) }
        }
        let names = Set(providers.map(\.name))
        let rules = try each("rules", c.rules) { r -> JWTRequirementRule in
            let match = try field("match") { try routeMatch(r.match) }
            switch r.requirementType {
            case let .requires(req)?: return JWTRequirementRule(match: match, requirement: try field("requires") { try jwtRequirement(req, names) })
            case .requirementName?: throw FieldError("requirement_name is not supported", at: ["requirement_name"])
            case nil: return JWTRequirementRule(match: match, requirement: .none)
            }
        }
        return JWTAuthnSettings(providers: providers, rules: rules, bypassCORSPreflight: c.bypassCorsPreflight,
                                statPrefix: "http.\(statPrefix).")
    }

    static func jwtProvider(_ name: String, _ p: JwtProviderProto) throws -> JWTProvider {
        try refuseUnknown(p, "subjects, require_expiration, max_lifetime, normalize_payload_in_metadata, failed_status_in_metadata, "
                          + "jwt_cache_config and clear_route_cache are not supported")
        let json: String
        switch p.jwksSourceSpecifier {
        case .remoteJwks?: throw FieldError("remote_jwks is not supported: weft control inlines keys", at: ["remote_jwks"])
        case let .localJwks(source)?:
            switch source.specifier {
            case let .inlineString(s)?: json = s
            case let .inlineBytes(b)?: json = String(decoding: b, as: UTF8.self)
            default: throw FieldError("only inline_string or inline_bytes is supported (weft control inlines keys)", at: ["local_jwks"])
            }
        case nil: throw FieldError("a provider needs local_jwks", at: ["local_jwks"])
        }
        let keys: JWKS
        do {
            keys = try JWKS(json: json)
        } catch {
            throw FieldError("invalid JWKS: \(error.message)", at: ["local_jwks"])
        }
        var locations: [JWTLocation] = try each("from_headers", p.fromHeaders) { h -> JWTLocation in
            guard !h.name.isEmpty else { throw FieldError("header name is empty", at: ["name"]) }
            return .header(name: h.name.lowercased(), prefix: h.valuePrefix)
        }
        locations += try each("from_params", p.fromParams) { n -> JWTLocation in
            guard !n.isEmpty else { throw FieldError("parameter name is empty") }
            return .queryParameter(n)
        }
        locations += try each("from_cookies", p.fromCookies) { n -> JWTLocation in
            guard !n.isEmpty else { throw FieldError("cookie name is empty") }
            return .cookie(n)
        }
        let claims = try each("claim_to_headers", p.claimToHeaders) { c -> JWTClaimToHeader in
            guard !c.headerName.isEmpty else { throw FieldError("header_name is empty", at: ["header_name"]) }
            guard !c.claimName.isEmpty else { throw FieldError("claim_name is empty", at: ["claim_name"]) }
            return JWTClaimToHeader(header: c.headerName, claim: c.claimName)
        }
        return JWTProvider(name: name, issuer: p.issuer, audiences: p.audiences, keys: keys, forward: p.forward,
                           locations: locations.isEmpty ? JWTLocation.defaults : locations,
                           forwardPayloadHeader: p.forwardPayloadHeader.isEmpty ? nil : p.forwardPayloadHeader,
                           padForwardPayloadHeader: p.padForwardPayloadHeader,
                           payloadInMetadata: p.payloadInMetadata.isEmpty ? nil : p.payloadInMetadata,
                           headerInMetadata: p.headerInMetadata.isEmpty ? nil : p.headerInMetadata,
                           clockSkew: p.clockSkewSeconds > 0 ? Double(p.clockSkewSeconds) : 60, claimToHeaders: claims)
    }

    /// A requirement; provider names must be configured (as Envoy checks).
    static func jwtRequirement(_ r: JwtRequirementProto, _ providers: Set<String>) throws -> JWTRequirement {
        func known(_ name: String, _ at: [String]) throws -> String {
            guard providers.contains(name) else { throw FieldError("provider '\(name)' is not configured", at: at) }
            return name
        }
        switch r.requiresType {
        case let .providerName(n)?: return .provider(try known(n, ["provider_name"]), audiences: nil)
        case let .providerAndAudiences(pa)?:
            return .provider(try known(pa.providerName, ["provider_and_audiences", "provider_name"]),
                             audiences: pa.audiences.isEmpty ? nil : pa.audiences)
        case let .requiresAny(list)?:
            guard list.requirements.count >= 2 else { throw FieldError("needs at least 2 requirements", at: ["requires_any", "requirements"]) }
            var children: [JWTRequirement] = []
            var allowMissing = false, allowFailed = false
            for (i, child) in list.requirements.enumerated() {
                switch child.requiresType {
                case .allowMissing?: allowMissing = true
                case .allowMissingOrFailed?: allowFailed = true
                default: children.append(try field("requires_any.requirements[\(i)]") { try jwtRequirement(child, providers) })
                }
            }
            return .any(children, allowMissing: allowMissing, allowMissingOrFailed: allowFailed)
        case let .requiresAll(list)?:
            guard list.requirements.count >= 2 else { throw FieldError("needs at least 2 requirements", at: ["requires_all", "requirements"]) }
            return .all(try field("requires_all") { try each("requirements", list.requirements) { try jwtRequirement($0, providers) } })
        case .allowMissing?: return .allowMissing
        case .allowMissingOrFailed?: return .allowMissingOrFailed
        case nil: return .none
        }
    }
}
