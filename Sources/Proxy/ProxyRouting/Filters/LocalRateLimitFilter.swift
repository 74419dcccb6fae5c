import ProxyConfig

/// Envoy's local rate limit (`envoy.filters.http.local_ratelimit`), listener-wide or per route: a request that
/// finds the token bucket empty is answered with the configured status (429) and headers. The bucket is made
/// with the filter, when config arrives; every route without settings of its own shares the listener's.
public struct LocalRateLimitFilter: HTTPFilter {
    public static let name = LocalRateLimitPolicy.filterName
    public let limiter: RateLimiter

    public init?(settings: any HTTPFilterSettings) {
        guard let p = settings as? LocalRateLimitPolicy else { return nil }
        limiter = RateLimiter(p)
    }

    public func decodeHeaders(_ request: inout FilterRequest, now: ContinuousClock.Instant, random: (Int) -> Int) -> FilterVerdict {
        if limiter.acquire(now: now) { return .proceed }
        var h = HeaderList()
        limiter.policy.responseHeaders.apply(to: &h)
        return .reply(LocalReply(status: limiter.policy.status, flag: .rateLimited, body: "local_rate_limited", headers: h))
    }
}
