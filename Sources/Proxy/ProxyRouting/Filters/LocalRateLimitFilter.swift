import NIOHTTP1

extension RateLimiter: HTTPFilterSettings {}

/// Envoy's local rate limit (`envoy.filters.http.local_ratelimit`), listener-wide or per route: a request that
/// finds the token bucket empty is answered with the configured status (429) and headers.
public struct LocalRateLimitFilter: HTTPFilter {
    public static let name = "envoy.filters.http.local_ratelimit"
    public let limiter: RateLimiter

    public init?(settings: any HTTPFilterSettings) {
        guard let l = settings as? RateLimiter else { return nil }
        limiter = l
    }

    public func decodeHeaders(_ request: FilterRequest, now: Int64, random: (Int) -> Int) -> FilterVerdict {
        if limiter.acquire(now: now) { return .proceed }
        var h = HTTPHeaders()
        limiter.responseHeaders.apply(to: &h)
        return .reply(LocalReply(status: limiter.status, flag: .rateLimited, body: "local_rate_limited", headers: h))
    }
}
