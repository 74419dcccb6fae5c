import NIOCore
import NIOEmbedded
import ProxyConfig
import ProxyRouting
import Testing
@testable import ProxyHTTP
@testable import ProxyUpstream

/// Whole requests through the proxy's own pipeline on NIO's embedded channels: the caller's connection, the
/// filters, the router, the pool and the upstream connections are real; bytes go in and come out by hand and
/// time moves only when the test advances it.
@Suite struct ExchangeEmbeddedTests {
    /// Hands out embedded channels as upstream connections (or refuses them), on the test's loop.
    final class EmbeddedUpstreams: UpstreamConnector, @unchecked Sendable {
        let loop: EmbeddedEventLoop
        var channels: [EmbeddedChannel] = []
        var refuse = false

        init(loop: EmbeddedEventLoop) { self.loop = loop }

        func connect(host: String, port: Int, timeout: TimeAmount, on _: any EventLoop,
                     initializer: @escaping @Sendable (any Channel) throws -> Void) -> EventLoopFuture<any Channel> {
            if refuse { return loop.makeFailedFuture(ChannelError.connectTimeout(timeout)) }
            let ch = EmbeddedChannel(loop: loop)
            do {
                try initializer(ch)
                try ch.connect(to: SocketAddress(ipAddress: host, port: port)).wait()
            } catch { return loop.makeFailedFuture(error) }
            channels.append(ch)
            return loop.makeSucceededFuture(ch)
        }
    }

    /// A proxy with one route table "r" (domain reviews, route / to cluster c of two endpoints) and one caller.
    struct Proxy {
        let loop = EmbeddedEventLoop()
        let upstreams: EmbeddedUpstreams
        let worker: Worker
        let caller: EmbeddedChannel

        /// `listenerWide`: the listener's own filter settings (as an inbound listener's RBAC and JWT filters);
        /// `networkRBAC`: the listener's network RBAC filters.
        init(forward: ForwardAction = ForwardAction(clusters: [WeightedCluster(name: "c")]),
             filters: [String: any HTTPFilterSettings] = [:], listenerWide: [String: any HTTPFilterSettings] = [:],
             networkRBAC: [RBACFilterConfig] = []) throws {
            upstreams = EmbeddedUpstreams(loop: loop)
            worker = Worker(loop: loop, connector: upstreams)
            let route = Route(match: RouteMatch(path: .prefix("/")), action: .forward(forward), filterSettings: filters)
            var routes = RouteTable(name: "r", virtualHosts: [VirtualHost(name: "vh", domains: ["reviews"], routes: [route])])
            routes.filterSettings = listenerWide
            let table = HTTPFilterRegistry.compile(routes)
            let cluster = ClusterConfig(name: "c", endpoints: [EndpointConfig(host: "10.0.0.1", port: 80), EndpointConfig(host: "10.0.0.2", port: 80)])
            worker.apply(ProxySnapshot(routeTables: ["r": table], clusters: ["c": cluster]))
            caller = EmbeddedChannel(loop: loop)
            var listener = ListenerConfig(name: "l", host: "127.0.0.1", port: 15001, kind: .http(routeTable: "r", statPrefix: "l"))
            listener.networkRBAC = networkRBAC
            try ListenerPipelines.configure(caller, listener: listener, worker: worker, guard: ListenerGuard())
            try caller.connect(to: SocketAddress(ipAddress: "127.0.0.2", port: 40000)).wait()
        }

        func send(_ text: String) throws { try caller.writeInbound(ByteBuffer(string: text)) }

        /// Everything written to a channel so far, as text.
        static func written(_ ch: EmbeddedChannel) throws -> String {
            var out = ""
            while let part = try ch.readOutbound(as: IOData.self) {
                if case let .byteBuffer(b) = part { out += String(buffer: b) }
            }
            return out
        }

        func answered() throws -> String { try Self.written(caller) }
        func upstream(_ i: Int) throws -> String { try Self.written(upstreams.channels[i]) }
        func respond(_ i: Int, _ text: String) throws { try upstreams.channels[i].writeInbound(ByteBuffer(string: text)) }

        /// The cluster's shared counts: requests and retries in flight, connections, pending.
        var counts: [Int] {
            let c = worker.upstreams.shared.cluster("c")
            return [c.requests.load(ordering: .relaxed), c.retries.load(ordering: .relaxed),
                    c.connections.load(ordering: .relaxed), c.pending.load(ordering: .relaxed)]
        }
    }

    static let get = "GET /r HTTP/1.1\r\nHost: reviews\r\n\r\n"

    @Test func aRetriable503IsRetriedOnAnotherConnectionAndTheCallerGetsThe200() throws {
        let p = try Proxy(forward: ForwardAction(clusters: [WeightedCluster(name: "c")],
                                                 retry: RetryPolicy(attempts: 2, on5xx: true, baseInterval: .milliseconds(1))))
        try p.send(Self.get)
        #expect(try p.upstream(0).hasPrefix("GET /r HTTP/1.1"))
        try p.respond(0, "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
        #expect(try p.answered().isEmpty, "the 503 is dropped, not forwarded")
        #expect(p.counts == [1, 1, 0, 0], "one request in flight, counted as a retry; the dropped connection is closed")
        p.loop.advanceTime(by: .milliseconds(1))  // the backoff
        #expect(p.upstreams.channels.count == 2)
        #expect(try p.upstream(1).hasPrefix("GET /r HTTP/1.1"))
        try p.respond(1, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        let answer = try p.answered()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK") && answer.hasSuffix("ok"))
        #expect(p.counts == [0, 0, 1, 0], "nothing in flight; the good connection stays pooled")
    }

    @Test func aTryThatOutlivesThePerTryTimeoutIsDroppedAndRetried() throws {
        let p = try Proxy(forward: ForwardAction(clusters: [WeightedCluster(name: "c")], timeout: .seconds(10),
                                                 retry: RetryPolicy(attempts: 1, on5xx: true, perTryTimeout: .milliseconds(300), baseInterval: .milliseconds(1))))
        try p.send(Self.get)
        #expect(p.upstreams.channels.count == 1)
        p.loop.advanceTime(by: .milliseconds(299))
        #expect(p.upstreams.channels[0].isActive)
        p.loop.advanceTime(by: .milliseconds(1))
        #expect(!p.upstreams.channels[0].isActive, "the slow try's connection is closed")
        p.loop.advanceTime(by: .milliseconds(1))
        #expect(p.upstreams.channels.count == 2)
        try p.respond(1, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        #expect(try p.answered().hasPrefix("HTTP/1.1 200 OK"))
        // No try is left after the second times out too: 504 with the flag.
        try p.send(Self.get)
        p.loop.advanceTime(by: .milliseconds(300))
        p.loop.advanceTime(by: .milliseconds(1))
        p.loop.advanceTime(by: .milliseconds(300))
        let late = try p.answered()
        #expect(late.hasPrefix("HTTP/1.1 504") && late.contains("x-weft-response-flags: UT"), "\(late)")
        #expect(p.counts[0...1] == [0, 0])
    }

    @Test func anUpstreamResetMidBodyCutsTheCallerAndLeavesNothingCounted() throws {
        let p = try Proxy()
        try p.send(Self.get)
        try p.respond(0, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf")
        #expect(try p.answered().hasPrefix("HTTP/1.1 200 OK"))
        try p.upstreams.channels[0].close().wait()
        #expect(!p.caller.isActive, "the caller's connection is cut: it must not take a short body for the whole")
        #expect(p.counts == [0, 0, 0, 0])
    }

    @Test func aCallerGoneMidResponseClosesTheUpstreamConnection() throws {
        let p = try Proxy()
        try p.send(Self.get)
        try p.respond(0, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf")
        try p.caller.close().wait()
        #expect(!p.upstreams.channels[0].isActive, "a half-read response cannot be reused")
        #expect(p.counts == [0, 0, 0, 0])
    }

    @Test func expect100ContinueIsAnsweredByTheProxyAndNotSentUpstream() throws {
        let p = try Proxy()
        try p.send("POST /r HTTP/1.1\r\nHost: reviews\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        #expect(try p.answered().hasPrefix("HTTP/1.1 100 Continue"))
        try p.send("hello")
        let up = try p.upstream(0)
        #expect(up.hasPrefix("POST /r HTTP/1.1") && up.hasSuffix("hello") && !up.lowercased().contains("expect"), "\(up)")
        try p.respond(0, "HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n")
        #expect(try p.answered().hasPrefix("HTTP/1.1 201 Created"))
    }

    @Test func aFaultAbortAnswersBeforeAnyUpstreamConnection() throws {
        let p = try Proxy(filters: [FaultFilter.name: FaultPolicy(abortStatus: 418, abortPerMillion: 1_000_000)])
        try p.send(Self.get)
        let answer = try p.answered()
        #expect(answer.hasPrefix("HTTP/1.1 418") && answer.contains("x-weft-response-flags: FI"), "\(answer)")
        #expect(p.upstreams.channels.isEmpty)
        #expect(p.counts == [0, 0, 0, 0])
    }

    @Test func aRefusedConnectionWithoutARetryPolicyIs503UF() throws {
        let p = try Proxy()
        p.upstreams.refuse = true
        try p.send(Self.get)
        let answer = try p.answered()
        #expect(answer.hasPrefix("HTTP/1.1 503") && answer.contains("x-weft-response-flags: UF"), "\(answer)")
        #expect(p.counts == [0, 0, 0, 0])
    }
}
