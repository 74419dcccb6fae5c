import ProxyConfig
import WeftCore
import WeftJWT

/// Envoy's JWT authentication filter (`envoy.filters.http.jwt_authn`), listener-wide: the first requirement rule
/// whose match accepts the request says which tokens it needs (Istio's: any provider, or no token at all). A token
/// that verifies has its payload written to the request's metadata (where RBAC reads `payload.iss`, `payload.sub`,
/// claims), its claims copied to headers, and is removed from the request unless the provider forwards it. A
/// request that fails is answered as Envoy answers: 401 (403 for a wrong audience) with Envoy's text and a
/// `www-authenticate: Bearer realm="<url>", error="invalid_token"` header.
///
/// Verified tokens are remembered per worker (JWTTokenCache, keyed by the token text), so a token seen again skips
/// parsing and the signature; its time, issuer and audiences are checked every time.
public struct JWTAuthnFilter: HTTPFilter {
    public static let name = JWTAuthnSettings.filterName
    public let settings: JWTAuthnSettings
    let extractors: [String: JWTExtractor]
    let allProviders: JWTExtractor

    public init?(settings: any HTTPFilterSettings) {
        guard let s = settings as? JWTAuthnSettings else { return nil }
        self.settings = s
        extractors = Dictionary(uniqueKeysWithValues: s.providers.map { ($0.name, JWTExtractor([$0])) })
        allProviders = JWTExtractor(s.providers)
    }

    public func decodeHeaders(_ request: inout FilterRequest, now: ContinuousClock.Instant, random: (Int) -> Int) -> FilterVerdict {
        if settings.bypassCORSPreflight, request.method == "OPTIONS", request.header("origin").map({ !$0.isEmpty }) ?? false,
           request.header("access-control-request-method").map({ !$0.isEmpty }) ?? false {
            request.worker.count(settings.allowedStat)
            return .proceed
        }
        let view = RequestView(method: request.method, uri: request.uri, authority: request.authority, headers: request.headers,
                               scheme: request.scheme)
        let worker = request.worker
        guard let rule = settings.rules.first(where: { $0.match.matches(view) }) else {
            worker.count(settings.allowedStat)  // as Envoy: no requirement is a success
            return .proceed
        }
        var run = JWTAuthentication(filter: self, now: worker.wallClock.now(),
                                    cache: worker.cache(for: settings) { JWTTokenCache(capacity: JWTTokenCache.defaultCapacity) })
        let failure = run.verify(rule.requirement, &request)
        if run.cacheHits > 0 { worker.count(settings.cacheHitStat, by: run.cacheHits) }
        if run.cacheMisses > 0 { worker.count(settings.cacheMissStat, by: run.cacheMisses) }
        guard let failure else {
            worker.count(settings.allowedStat)
            return .proceed
        }
        worker.count(settings.deniedStat)
        return .reply(Self.reply(failure, request))
    }

    /// Envoy's answer to a request whose token failed: 403 for a wrong audience, else 401, the failure's text as
    /// body, and the bearer challenge naming the request's URL (its path cut at 256 bytes).
    static func reply(_ failure: JWTError, _ request: FilterRequest) -> LocalReply {
        let scheme = request.header("x-forwarded-proto") ?? (request.connection.peer != nil ? "https" : "http")
        let path = request.uri.utf8.count > 256 ? String(decoding: request.uri.utf8.prefix(256), as: UTF8.self) : request.uri
        var challenge = "Bearer realm=\"\(scheme)://\(request.authority)\(path)\""
        if failure != .missing { challenge += ", error=\"invalid_token\"" }
        return LocalReply(status: failure == .audienceNotAllowed ? 403 : 401, flag: nil, body: failure.message,
                          headers: ["www-authenticate": challenge])
    }
}
