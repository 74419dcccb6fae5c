import NIOCore
import NIOEmbedded
import ProxyConfig
import Testing
@testable import ProxyUpstream

/// Outlier detection as a table of outcomes: no sockets, an embedded loop and explicit times.
@Suite struct OutlierDetectionTests {
    func runtime(_ outlier: OutlierConfig, endpoints: Int = 2) -> (ClusterRuntime, [UpstreamPool]) {
        var c = ClusterConfig(name: "c", endpoints: (0..<endpoints).map { EndpointConfig(host: "10.0.0.\($0)", port: 80) })
        c.outlier = outlier
        let upstreams = Upstreams(loop: EmbeddedEventLoop(), stats: WorkerStats())
        upstreams.apply(["c": c])
        let rt = upstreams.clusters["c"]!
        return (rt, rt.allPools)
    }

    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func ejectsAfterConsecutive5xxAndReturnsAfterBaseTime() {
        let (rt, pools) = runtime(OutlierConfig(consecutive5xx: 3, baseEjectionTime: .seconds(30), maxEjectionPercent: 100))
        rt.record(pools[0], status: 500, now: t0)
        rt.record(pools[0], status: 503, now: t0)
        #expect(rt.candidates.count == 2)
        rt.record(pools[0], status: 500, now: t0)
        #expect(rt.candidates.map(\.host) == ["10.0.0.1"])
        #expect(rt.counters.value.ejectionsActive == 1)
        rt.uneject(now: t0 + .seconds(29))
        #expect(rt.candidates.count == 1)
        rt.uneject(now: t0 + .seconds(30))
        #expect(rt.candidates.count == 2)
    }

    @Test func successResetsTheCount() {
        let (rt, pools) = runtime(OutlierConfig(consecutive5xx: 2, maxEjectionPercent: 100))
        for status in [500, 200, 500, 200, 500] { rt.record(pools[1], status: status, now: t0) }
        #expect(rt.candidates.count == 2)
    }

    @Test func ejectionTimeGrowsWithEachEjection() {
        let (rt, pools) = runtime(OutlierConfig(consecutive5xx: 1, baseEjectionTime: .seconds(10), maxEjectionPercent: 100))
        rt.record(pools[0], status: 0, now: t0)
        rt.uneject(now: t0 + .seconds(10))
        rt.record(pools[0], status: 502, now: t0 + .seconds(10))
        rt.uneject(now: t0 + .seconds(29))
        #expect(rt.candidates.count == 1, "second ejection lasts 20 s")
        rt.uneject(now: t0 + .seconds(30))
        #expect(rt.candidates.count == 2)
    }

    @Test func maxEjectionPercentAndPanicThreshold() {
        let (rt, pools) = runtime(OutlierConfig(consecutive5xx: 1, maxEjectionPercent: 50), endpoints: 4)
        for p in pools { rt.record(p, status: 500, now: t0) }
        #expect(rt.counters.value.ejectionsActive == 2, "at most half of 4")
        #expect(rt.candidates.count == 2)
        let (one, onePool) = runtime(OutlierConfig(consecutive5xx: 1, maxEjectionPercent: 100), endpoints: 1)
        one.record(onePool[0], status: 500, now: t0)
        #expect(one.candidates.count == 1, "with nothing left, panic mode uses every endpoint")
    }

    @Test func gatewayErrorsOnlyWhenEnforced() {
        let (rt, pools) = runtime(OutlierConfig(consecutive5xx: nil, enforcing5xx: 0, consecutiveGatewayFailure: 2,
                                                enforcingGatewayFailure: 100, maxEjectionPercent: 100))
        rt.record(pools[0], status: 500, now: t0)
        rt.record(pools[0], status: 500, now: t0)
        #expect(rt.candidates.count == 2, "500 is not a gateway error")
        rt.record(pools[0], status: 504, now: t0)
        rt.record(pools[0], status: 0, now: t0)
        #expect(rt.candidates.count == 1)
    }
}
