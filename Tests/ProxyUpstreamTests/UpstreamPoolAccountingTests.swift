import NIOCore
import NIOPosix
import ProxyConfig
import Synchronization
import Testing
@testable import ProxyUpstream

/// The pools' circuit-breaker accounting with real connections on loopback: limits hold for the whole cluster
/// across workers, and every count is back to zero after every path (served, queued, overflowed, refused
/// connection, retired endpoint).
@Suite(.timeLimit(.minutes(1))) struct UpstreamPoolAccountingTests {
    /// Drives pools on their workers' loops and records what each acquire got.
    final class Harness: @unchecked Sendable {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let shared = SharedUpstreams()
        let workers: [Upstreams]
        /// Connections in use with the pool that gave them, by worker; touched on that worker's loop only.
        var connections: [Int: [(UpstreamPool, UpstreamConnection)]] = [:]
        let outcomes = Mutex<[String]>([])

        init(cluster: ClusterConfig) async throws {
            let shared = self.shared
            workers = group.makeIterator().map { Upstreams(loop: $0, stats: WorkerStats(), shared: shared) }
            for w in workers { try await w.loop.submit { w.apply([cluster.name: cluster]) }.get() }
        }

        func pool(_ w: Int) -> UpstreamPool { workers[w].clusters.values.first!.allPools[0] }
        var cluster: SharedCluster { shared.cluster("c") }

        func acquire(worker w: Int, _ n: Int = 1) async throws {
            try await workers[w].loop.submit {
                for _ in 0..<n {
                    let pool = self.pool(w)
                    pool.acquire { result in
                        switch result {
                        case let .success(c):
                            self.connections[w, default: []].append((pool, c))
                            self.outcomes.withLock { $0.append("connected") }
                        case .failure(.overflow): self.outcomes.withLock { $0.append("overflow") }
                        case .failure(.connectFailed): self.outcomes.withLock { $0.append("refused") }
                        }
                    }
                }
            }.get()
        }

        /// Ends the first exchange on worker `w`'s pool (keep-alive or not).
        func release(worker w: Int, reusable: Bool) async throws {
            try await workers[w].loop.submit {
                let (pool, c) = self.connections[w]!.removeFirst()
                pool.release(c, reusable: reusable)
            }.get()
        }

        func waitFor(_ count: Int, _ what: String) async throws {
            while outcomes.withLock({ $0.filter { $0 == what }.count }) < count { try await Task.sleep(for: .milliseconds(2)) }
        }

        func counts() -> [Int] {
            [cluster.connections.load(ordering: .relaxed), cluster.pending.load(ordering: .relaxed),
             cluster.requests.load(ordering: .relaxed), cluster.retries.load(ordering: .relaxed)]
        }

        /// Until the cluster's counts are `want` (connections close asynchronously).
        func settle(_ want: [Int]) async throws {
            while counts() != want { try await Task.sleep(for: .milliseconds(2)) }
        }

        func stop() async throws { try await group.shutdownGracefully() }
    }

    /// A loopback server that accepts and holds connections.
    func listener(_ group: MultiThreadedEventLoopGroup) async throws -> (any Channel, Int) {
        let ch = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        return (ch, ch.localAddress!.port!)
    }

    @Test func limitsHoldForTheClusterAcrossWorkersAndCountsReturnToZero() async throws {
        let server = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (listening, port) = try await listener(server)
        var c = ClusterConfig(name: "c", endpoints: [EndpointConfig(host: "127.0.0.1", port: port)])
        c.limits = CircuitLimits(maxConnections: 2, maxPendingRequests: 1)
        let h = try await Harness(cluster: c)
        // Worker 0 opens the cluster's 2 connections.
        try await h.acquire(worker: 0, 2)
        try await h.waitFor(2, "connected")
        #expect(h.counts() == [2, 0, 0, 0])
        // Worker 1's pool has no connection: it opens one anyway (Envoy's rule), then queues one, then overflows.
        try await h.acquire(worker: 1, 3)
        try await h.waitFor(3, "connected")
        try await h.waitFor(1, "overflow")
        #expect(h.counts() == [3, 1, 0, 0], "connections, pending: the limits are the cluster's, not each worker's")
        // Worker 0 asks again: at the limit with connections of its own, and the one pending slot is taken.
        try await h.acquire(worker: 0, 1)
        try await h.waitFor(2, "overflow")
        // Worker 1's first exchange ends with keep-alive: its queued request gets that connection.
        try await h.release(worker: 1, reusable: true)
        try await h.waitFor(4, "connected")
        #expect(h.counts() == [3, 0, 0, 0])
        // Every exchange ends, some closing their connection: everything goes back to zero.
        try await h.release(worker: 0, reusable: false)
        try await h.release(worker: 0, reusable: false)
        try await h.release(worker: 1, reusable: false)
        try await h.settle([0, 0, 0, 0])
        try await h.stop()
        try await listening.close()
        try await server.shutdownGracefully()
    }

    @Test func aRefusedConnectionAndARetiredEndpointLeaveNothingCounted() async throws {
        // Port 1 on loopback: nothing listens, the connection is refused at once. (A port bound and closed here
        // could be taken meanwhile by another test of this process binding port 0.)
        let server = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var c = ClusterConfig(name: "c", endpoints: [EndpointConfig(host: "127.0.0.1", port: 1)])
        c.limits = CircuitLimits(maxConnections: 1, maxPendingRequests: 4)
        let h = try await Harness(cluster: c)
        try await h.acquire(worker: 0, 3)
        try await h.waitFor(3, "refused")
        try await h.settle([0, 0, 0, 0])

        // Requests queued behind a connection are refused when the endpoint leaves, and leave the count.
        let (listening, live) = try await listener(server)
        var d = ClusterConfig(name: "c", endpoints: [EndpointConfig(host: "127.0.0.1", port: live)])
        d.limits = CircuitLimits(maxConnections: 1, maxPendingRequests: 4)
        for w in h.workers { try await w.loop.submit { w.apply(["c": d]) }.get() }
        try await h.acquire(worker: 0, 3)
        try await h.waitFor(1, "connected")
        #expect(h.counts() == [1, 2, 0, 0])
        for w in h.workers { try await w.loop.submit { w.apply([:]) }.get() }
        try await h.waitFor(2, "overflow")
        try await h.release(worker: 0, reusable: true)
        try await h.settle([0, 0, 0, 0])
        try await h.stop()
        try await listening.close()
        try await server.shutdownGracefully()
    }
}
