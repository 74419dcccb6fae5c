import NIOCore
import NIOEmbedded
import ProxyConfig
import Testing
@testable import ProxyUpstream

/// Priority failover, active health check results and locality weights, as tables: no sockets.
@Suite struct RotationTests {
    func runtime(_ endpoints: [EndpointConfig], weighted: Bool = false) -> (Upstreams, ClusterRuntime) {
        var c = ClusterConfig(name: "c", endpoints: endpoints)
        c.healthCheck = HealthCheckConfig(probe: .tcp, interval: .seconds(1), timeout: .milliseconds(500), unhealthyThreshold: 2, healthyThreshold: 1)
        c.localityWeighted = weighted
        let upstreams = Upstreams(loop: EmbeddedEventLoop(), stats: WorkerStats())
        upstreams.apply(["c": c])
        return (upstreams, upstreams.clusters["c"]!)
    }

    /// Where `n` requests go, by host.
    func spread(_ w: Upstreams, _ rt: ClusterRuntime, _ n: Int = 1000) -> [String: Int] {
        var out: [String: Int] = [:]
        for _ in 0..<n { if let p = rt.pick(hash: nil, random: { $0 <= 1 ? 0 : Int.random(in: 0..<$0) }) { out[p.endpoint.host, default: 0] += 1 } }
        return out
    }

    func address(_ host: String) -> EndpointAddress { EndpointAddress(host: host, port: 80) }

    @Test func failsOverByPriorityAndComesBack() {
        let (w, rt) = runtime([EndpointConfig(host: "a", port: 80, priority: 0), EndpointConfig(host: "b", port: 80, priority: 1),
                               EndpointConfig(host: "c", port: 80, priority: 2)])
        #expect(spread(w, rt) == ["a": 1000])
        w.setHealthCheckFailures(cluster: "c", [address("a")])
        #expect(spread(w, rt) == ["b": 1000])
        w.setHealthCheckFailures(cluster: "c", [address("a"), address("b")])
        #expect(spread(w, rt) == ["c": 1000])
        w.setHealthCheckFailures(cluster: "c", [])
        #expect(spread(w, rt) == ["a": 1000])
    }

    @Test func partlyHealthyPrioritySpillsOverAsEnvoyDoes() {
        // Priority 0 has 1 of 2 healthy: health 50% x 1.4 = 70% of the load stays, 30% spills to priority 1.
        let (w, rt) = runtime([EndpointConfig(host: "a1", port: 80), EndpointConfig(host: "a2", port: 80),
                               EndpointConfig(host: "b", port: 80, priority: 1)])
        w.setHealthCheckFailures(cluster: "c", [address("a2")])
        let s = spread(w, rt, 4000)
        #expect(s["a2"] == nil)
        #expect((2600...3000).contains(s["a1"] ?? 0), "got \(s)")
        #expect((1000...1400).contains(s["b"] ?? 0), "got \(s)")
    }

    @Test func everythingFailingIsPanicModeInTheFirstPriority() {
        let (w, rt) = runtime([EndpointConfig(host: "a", port: 80), EndpointConfig(host: "b", port: 80, priority: 1)])
        w.setHealthCheckFailures(cluster: "c", [address("a"), address("b")])
        #expect(spread(w, rt) == ["a": 1000])
    }

    @Test func localityWeightsSplitTraffic() {
        let (w, rt) = runtime([EndpointConfig(host: "x", port: 80, locality: "r/z1", localityWeight: 80),
                               EndpointConfig(host: "y", port: 80, locality: "r/z2", localityWeight: 20)], weighted: true)
        let s = spread(w, rt, 5000)
        #expect((3800...4200).contains(s["x"] ?? 0), "got \(s)")
    }

    @Test func healthCheckStateMachineFollowsThresholds() {
        let checker = HealthChecker(loop: EmbeddedEventLoop(), upstreams: [])
        let config = HealthCheckConfig(probe: .tcp, interval: .nanoseconds(1), timeout: .nanoseconds(1), unhealthyThreshold: 3, healthyThreshold: 2)
        let e = HealthChecker.EndpointHealth()
        #expect(!e.healthy, "a new endpoint waits for its first probe")
        checker.record(.pass, e, config)
        #expect(e.healthy, "one pass is enough the first time")
        checker.record(.networkFailure, e, config)
        checker.record(.networkFailure, e, config)
        #expect(e.healthy)
        checker.record(.networkFailure, e, config)
        #expect(!e.healthy, "three network failures in a row")
        checker.record(.pass, e, config)
        #expect(!e.healthy)
        checker.record(.pass, e, config)
        #expect(e.healthy, "two passes bring it back")
        checker.record(.unhealthy, e, config)
        #expect(!e.healthy, "an unhealthy answer is enough at once")
    }
}
