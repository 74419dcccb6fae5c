import ProxyConfig
import ProxyRouting
import Testing

/// Envoy's token bucket: starts full, refills continuously, never above the maximum.
@Suite struct RateLimiterTests {
    @Test func tokenBucketRefillsContinuously() {
        let l = RateLimiter(LocalRateLimitPolicy(maxTokens: 3, tokensPerFill: 2, fillInterval: .nanoseconds(1_000)))
        let t0 = ContinuousClock.now
        func at(_ ns: Int64) -> ContinuousClock.Instant { t0 + .nanoseconds(ns) }
        #expect((0..<5).map { _ in l.acquire(now: at(0)) } == [true, true, true, false, false])
        #expect(!l.acquire(now: at(499)), "0.998 of a token")
        #expect(l.acquire(now: at(500)) && !l.acquire(now: at(500)), "two tokens per 1000 ns: one after 500")
        #expect((0..<4).map { _ in l.acquire(now: at(10_000)) } == [true, true, true, false], "never above maxTokens")
    }
}
