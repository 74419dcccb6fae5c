import ProxyConfig
import ProxyRouting
import Testing

/// Each HTTP filter alone, as tables of requests: a fixed random source and explicit times, no sockets.
@Suite struct FilterTests {
    let plain = FilterRequest(method: "GET", headers: HeaderList([("host", "reviews")]))
    let grpc = FilterRequest(method: "POST", headers: HeaderList([("content-type", "application/grpc")]))
    let t0 = ContinuousClock.now
    /// A random source that always draws `n` (parts per million).
    func draws(_ n: Int) -> (Int) -> Int { { _ in n } }

    /// Runs one filter on a copy of `request`.
    func run(_ f: some HTTPFilter, _ request: FilterRequest, now: ContinuousClock.Instant = .now, random: @escaping (Int) -> Int) -> FilterVerdict {
        var r = request
        return f.decodeHeaders(&r, now: now, random: random)
    }

    struct FaultCase {
        var policy: FaultPolicy
        var draw: Int
        var isGRPC = false
        var verdict: FilterVerdict
    }

    static let grpcAbortHeaders: HeaderList = ["content-type": "application/grpc", "grpc-status": "14",
                                                "grpc-message": "fault filter abort"]

    static let faultCases: [FaultCase] = [
        FaultCase(policy: FaultPolicy(abortStatus: 503, abortPerMillion: 500_000), draw: 499_999,
                  verdict: .reply(LocalReply(status: 503, flag: .faultAbort, body: "fault filter abort\n"))),
        FaultCase(policy: FaultPolicy(abortStatus: 503, abortPerMillion: 500_000), draw: 500_000, verdict: .proceed),
        FaultCase(policy: FaultPolicy(delay: .milliseconds(7), delayPerMillion: 1_000_000), draw: 0,
                  verdict: .delay(.milliseconds(7))),
        FaultCase(policy: FaultPolicy(abortGRPCStatus: 14, abortPerMillion: 1_000_000), draw: 0,
                  verdict: .reply(LocalReply(status: 200, flag: .faultAbort, body: "fault filter abort"))),
        FaultCase(policy: FaultPolicy(abortGRPCStatus: 14, abortPerMillion: 1_000_000), draw: 0, isGRPC: true,
                  verdict: .reply(LocalReply(status: 200, flag: .faultAbort, body: "", headers: grpcAbortHeaders))),
        // Abort is decided first; a request it spares may still be delayed.
        FaultCase(policy: FaultPolicy(delay: .nanoseconds(5), delayPerMillion: 1_000_000, abortStatus: 500, abortPerMillion: 10), draw: 10,
                  verdict: .delay(.nanoseconds(5))),
    ]

    @Test func faultAbortsDelaysOrLetsThrough() throws {
        for (i, c) in Self.faultCases.enumerated() {
            let f = try #require(FaultFilter(settings: c.policy))
            #expect(run(f, c.isGRPC ? grpc : plain, random: draws(c.draw)) == c.verdict, "case \(i)")
        }
    }

    @Test func aFaultThatDoesNothingIsNoFilter() {
        #expect(FaultFilter(settings: FaultPolicy()) == nil)
        #expect(FaultFilter(settings: FaultPolicy(delay: .microseconds(1), delayPerMillion: 0)) == nil)
    }

    @Test func localRateLimitAnswers429WithItsHeadersWhenTheBucketIsEmpty() throws {
        let policy = LocalRateLimitPolicy(maxTokens: 2, tokensPerFill: 1, fillInterval: .seconds(1),
                                          responseHeaders: HeaderEdits(set: [("retry-after", "1")]))
        let f = try #require(LocalRateLimitFilter(settings: policy))
        let limited = FilterVerdict.reply(LocalReply(status: 429, flag: .rateLimited, body: "local_rate_limited",
                                                     headers: ["retry-after": "1"]))
        #expect(run(f, plain, now: t0, random: draws(0)) == .proceed)
        #expect(run(f, plain, now: t0, random: draws(0)) == .proceed)
        #expect(run(f, plain, now: t0, random: draws(0)) == limited)
        // One token back after one fill interval.
        #expect(run(f, plain, now: t0 + .seconds(1), random: draws(0)) == .proceed)
        #expect(run(f, plain, now: t0 + .seconds(1), random: draws(0)) == limited)
    }

    static let fault = FaultPolicy(abortStatus: 500, abortPerMillion: 1)
    static let limit = LocalRateLimitPolicy(maxTokens: 1, tokensPerFill: 1, fillInterval: .seconds(1))

    static func table(routeSettings: [String: any HTTPFilterSettings], listener: [String: any HTTPFilterSettings] = [:]) -> RouteTable {
        var t = RouteTable(name: "t", virtualHosts: [VirtualHost(name: "vh", domains: ["*"], routes: [
            Route(name: "own", match: RouteMatch(path: .prefix("/own")), action: .direct(status: 200, body: ""), filterSettings: routeSettings),
            Route(name: "plain", match: RouteMatch(path: .prefix("/")), action: .direct(status: 200, body: "")),
        ])])
        t.filterSettings = listener
        return t
    }

    func names(_ filters: [any HTTPFilter]) -> [String] { filters.map { type(of: $0).name } }

    @Test func aRoutesChainFollowsTheListenersHTTPFiltersOrder() {
        let settings: [String: any HTTPFilterSettings] = [FaultFilter.name: Self.fault, LocalRateLimitFilter.name: Self.limit]
        let envoyOrder = HTTPFilterRegistry.compile(Self.table(routeSettings: settings),
                                                    order: [LocalRateLimitFilter.name, FaultFilter.name, "envoy.filters.http.cors"])
        #expect(names(envoyOrder.virtualHosts[0].routes[0].filters) == [LocalRateLimitFilter.name, FaultFilter.name])
        let faultFirst = HTTPFilterRegistry.compile(Self.table(routeSettings: settings), order: [FaultFilter.name, LocalRateLimitFilter.name])
        #expect(names(faultFirst.virtualHosts[0].routes[0].filters) == [FaultFilter.name, LocalRateLimitFilter.name])
        // A filter the listener does not run ignores the route's settings for it, as in Envoy.
        let faultOnly = HTTPFilterRegistry.compile(Self.table(routeSettings: settings), order: [FaultFilter.name])
        #expect(names(faultOnly.virtualHosts[0].routes[0].filters) == [FaultFilter.name])
        #expect(HTTPFilterRegistry.defaultOrder == ["envoy.filters.http.jwt_authn", "envoy.filters.http.rbac",
                                                    "envoy.filters.http.local_ratelimit", "envoy.filters.http.fault"])
        #expect(HTTPFilterRegistry.compile(Self.table(routeSettings: [:])).virtualHosts[0].routes[1].filters.isEmpty)
    }

    @Test func routesWithoutSettingsShareTheListenersBucketAndARoutesOwnSettingsReplaceIt() throws {
        let own = LocalRateLimitPolicy(maxTokens: 5, tokensPerFill: 1, fillInterval: .seconds(1))
        let t = HTTPFilterRegistry.compile(Self.table(routeSettings: [LocalRateLimitFilter.name: own],
                                                      listener: [LocalRateLimitFilter.name: Self.limit]))
        let listenerWide = try #require(t.filters.first as? LocalRateLimitFilter)
        let plain = try #require(t.virtualHosts[0].routes[1].filters.first as? LocalRateLimitFilter)
        let ownFilter = try #require(t.virtualHosts[0].routes[0].filters.first as? LocalRateLimitFilter)
        #expect(plain.limiter === listenerWide.limiter, "one bucket for the listener")
        #expect(ownFilter.limiter !== listenerWide.limiter && ownFilter.limiter.policy == own)
    }
}
