import NIOHTTP1
import ProxyRouting
import Testing

/// Each HTTP filter alone, as tables of requests: a fixed random source and explicit times, no sockets.
@Suite struct FilterTests {
    let plain = FilterRequest(method: "GET", headers: ["host": "reviews"])
    let grpc = FilterRequest(method: "POST", headers: ["content-type": "application/grpc"])
    /// A random source that always draws `n` (parts per million).
    func draws(_ n: Int) -> (Int) -> Int { { _ in n } }

    struct FaultCase {
        var policy: FaultPolicy
        var draw: Int
        var isGRPC = false
        var verdict: FilterVerdict
    }

    static let grpcAbortHeaders: HTTPHeaders = ["content-type": "application/grpc", "grpc-status": "14",
                                                "grpc-message": "fault filter abort"]

    static let faultCases: [FaultCase] = [
        FaultCase(policy: FaultPolicy(abortStatus: 503, abortPerMillion: 500_000), draw: 499_999,
                  verdict: .reply(LocalReply(status: 503, flag: .faultAbort, body: "fault filter abort\n"))),
        FaultCase(policy: FaultPolicy(abortStatus: 503, abortPerMillion: 500_000), draw: 500_000, verdict: .proceed),
        FaultCase(policy: FaultPolicy(delayNanos: 7_000_000, delayPerMillion: 1_000_000), draw: 0,
                  verdict: .delay(nanoseconds: 7_000_000)),
        FaultCase(policy: FaultPolicy(abortGRPCStatus: 14, abortPerMillion: 1_000_000), draw: 0,
                  verdict: .reply(LocalReply(status: 200, flag: .faultAbort, body: "fault filter abort"))),
        FaultCase(policy: FaultPolicy(abortGRPCStatus: 14, abortPerMillion: 1_000_000), draw: 0, isGRPC: true,
                  verdict: .reply(LocalReply(status: 200, flag: .faultAbort, body: "", headers: grpcAbortHeaders))),
        // Abort is decided first; a request it spares may still be delayed.
        FaultCase(policy: FaultPolicy(delayNanos: 5, delayPerMillion: 1_000_000, abortStatus: 500, abortPerMillion: 10), draw: 10,
                  verdict: .delay(nanoseconds: 5)),
    ]

    @Test func faultAbortsDelaysOrLetsThrough() throws {
        for (i, c) in Self.faultCases.enumerated() {
            let f = try #require(FaultFilter(settings: c.policy))
            #expect(f.decodeHeaders(c.isGRPC ? grpc : plain, now: 0, random: draws(c.draw)) == c.verdict, "case \(i)")
        }
    }

    @Test func aFaultThatDoesNothingIsNoFilter() {
        #expect(FaultFilter(settings: FaultPolicy()) == nil)
        #expect(FaultFilter(settings: FaultPolicy(delayNanos: 1_000, delayPerMillion: 0)) == nil)
    }

    @Test func localRateLimitAnswers429WithItsHeadersWhenTheBucketIsEmpty() throws {
        let limiter = RateLimiter(maxTokens: 2, tokensPerFill: 1, fillInterval: 1_000_000_000,
                                  responseHeaders: HeaderEdits(set: [("retry-after", "1")]))
        let f = try #require(LocalRateLimitFilter(settings: limiter))
        let limited = FilterVerdict.reply(LocalReply(status: 429, flag: .rateLimited, body: "local_rate_limited",
                                                     headers: ["retry-after": "1"]))
        let t0: Int64 = 5_000_000_000
        #expect(f.decodeHeaders(plain, now: t0, random: draws(0)) == .proceed)
        #expect(f.decodeHeaders(plain, now: t0, random: draws(0)) == .proceed)
        #expect(f.decodeHeaders(plain, now: t0, random: draws(0)) == limited)
        // One token back after one fill interval.
        #expect(f.decodeHeaders(plain, now: t0 + 1_000_000_000, random: draws(0)) == .proceed)
        #expect(f.decodeHeaders(plain, now: t0 + 1_000_000_000, random: draws(0)) == limited)
    }

    @Test func aRoutesChainFollowsTheRegistryOrderWhateverTheSettingsOrder() {
        let route = Route(match: RouteMatch(path: .prefix("/")), action: .direct(status: 200, body: ""),
                          filterSettings: [FaultFilter.name: FaultPolicy(abortStatus: 500, abortPerMillion: 1),
                                           LocalRateLimitFilter.name: RateLimiter(maxTokens: 1, tokensPerFill: 1, fillInterval: 1)])
        #expect(route.filters.map { type(of: $0).name } == [LocalRateLimitFilter.name, FaultFilter.name])
        #expect(HTTPFilterRegistry.ordered.map { $0.name } == ["envoy.filters.http.local_ratelimit", "envoy.filters.http.fault"])
        #expect(Route(match: RouteMatch(path: .prefix("/")), action: .direct(status: 200, body: "")).filters.isEmpty)
    }
}
