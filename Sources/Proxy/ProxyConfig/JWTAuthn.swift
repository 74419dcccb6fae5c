import WeftCore
import WeftJWT

/// Envoy's JWT authentication filter (`envoy.filters.http.jwt_authn`), compiled when config arrives: providers with
/// their key sets parsed (WeftJWT), where each looks for tokens, what a verified token turns into (metadata, headers),
/// and the requirement rules. ProxyRouting's JWTAuthnFilter runs it. A final class: its identity keys the workers'
/// caches of verified tokens, so a new config never meets an old config's cache.
public final class JWTAuthnSettings: HTTPFilterSettings {
    public static let filterName = "envoy.filters.http.jwt_authn"
    /// By name, sorted by name (the order in which a provider is found by issuer).
    public let providers: [JWTProvider]
    /// The first whose match accepts the request gives its requirement; none: the request is not checked.
    public let rules: [JWTRequirementRule]
    /// CORS preflights pass unchecked.
    public let bypassCORSPreflight: Bool
    /// `http.<stat_prefix>.jwt_authn.allowed`, `.denied`, `.jwt_cache_hit`, `.jwt_cache_miss`.
    public let allowedStat: StatName, deniedStat: StatName, cacheHitStat: StatName, cacheMissStat: StatName

    public init(providers: [JWTProvider], rules: [JWTRequirementRule], bypassCORSPreflight: Bool = false, statPrefix: String) {
        self.providers = providers.sorted { $0.name < $1.name }
        self.rules = rules
        self.bypassCORSPreflight = bypassCORSPreflight
        let base = StatName.join(statPrefix, "jwt_authn.")
        allowedStat = StatName(base + "allowed")
        deniedStat = StatName(base + "denied")
        cacheHitStat = StatName(base + "jwt_cache_hit")
        cacheMissStat = StatName(base + "jwt_cache_miss")
    }

    public func provider(named name: String) -> JWTProvider? { providers.first { $0.name == name } }
}

/// A JWT provider (`JwtProvider`): who issues tokens, with which keys, for which audiences, where a request carries
/// them, and what a verified one turns into.
public struct JWTProvider: Sendable {
    public var name: String
    /// Empty: any issuer.
    public var issuer: String
    /// Empty: any audience.
    public var audiences: [String]
    public var keys: JWKS
    /// Keep the token in the request sent upstream (default: removed).
    public var forward: Bool
    /// Where to look, in Envoy's default when the config names none: `Authorization: Bearer <token>`, then the
    /// `access_token` query parameter.
    public var locations: [JWTLocation]
    /// The verified payload (base64url) goes upstream in this header.
    public var forwardPayloadHeader: String?
    public var padForwardPayloadHeader: Bool
    /// The key under `envoy.filters.http.jwt_authn` in the request's metadata for the payload, and for the header.
    public var payloadInMetadata: String?
    public var headerInMetadata: String?
    /// Seconds of leeway for `exp` and `nbf` (Envoy's default: 60).
    public var clockSkew: Double
    /// Claims copied into request headers.
    public var claimToHeaders: [JWTClaimToHeader]

    public init(name: String, issuer: String, audiences: [String] = [], keys: JWKS, forward: Bool = false,
                locations: [JWTLocation] = JWTLocation.defaults, forwardPayloadHeader: String? = nil, padForwardPayloadHeader: Bool = false,
                payloadInMetadata: String? = nil, headerInMetadata: String? = nil, clockSkew: Double = 60,
                claimToHeaders: [JWTClaimToHeader] = []) {
        self.name = name
        self.issuer = issuer
        self.audiences = audiences
        self.keys = keys
        self.forward = forward
        self.locations = locations
        self.forwardPayloadHeader = forwardPayloadHeader?.lowercased()
        self.padForwardPayloadHeader = padForwardPayloadHeader
        self.payloadInMetadata = payloadInMetadata
        self.headerInMetadata = headerInMetadata
        self.clockSkew = clockSkew
        self.claimToHeaders = claimToHeaders
    }

    /// The headers a request may not bring itself (removed before tokens are looked for, as Envoy sanitizes them):
    /// the payload header and the claim headers.
    public var sanitizedHeaders: [String] { (forwardPayloadHeader.map { [$0] } ?? []) + claimToHeaders.map(\.header) }
}

/// Where a token may be: a header (after a value prefix such as `Bearer `), a query parameter, a cookie.
public enum JWTLocation: Sendable, Equatable {
    case header(name: String, prefix: String)
    case queryParameter(String)
    case cookie(String)

    public static let defaults: [JWTLocation] = [.header(name: "authorization", prefix: "Bearer "), .queryParameter("access_token")]
}

/// A claim (a `.`-separated path into the payload) copied into a request header.
public struct JWTClaimToHeader: Sendable, Equatable {
    public var header: String
    public var claim: [String]

    public init(header: String, claim: String) {
        self.header = header.lowercased()
        self.claim = claim.split(separator: ".").map(String.init)
    }
}

/// A requirement rule: a route match and what it requires.
public struct JWTRequirementRule: Sendable {
    public var match: RouteMatch
    public var requirement: JWTRequirement

    public init(match: RouteMatch, requirement: JWTRequirement) {
        self.match = match
        self.requirement = requirement
    }
}

/// Envoy's JwtRequirement.
public indirect enum JWTRequirement: Sendable {
    /// A token from this provider must verify (`audiences`, when given, replace the provider's).
    case provider(String, audiences: [String]?)
    /// Any one child suffices; `allowMissing`: no token at all passes too; `allowMissingOrFailed`: anything passes.
    case any([JWTRequirement], allowMissing: Bool, allowMissingOrFailed: Bool)
    /// Every child.
    case all([JWTRequirement])
    /// Tokens of any provider are checked; none at all passes.
    case allowMissing
    /// Tokens of any provider are checked; the request passes whatever the outcome.
    case allowMissingOrFailed
    /// Nothing is checked.
    case none
}
