import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import ProxyConfig
import ProxyRouting
import Testing
@testable import ProxyHTTP
@testable import ProxyUpstream

/// weft proxy's HTTP/2 server handler on embedded channels, frames in and out by hand: request bodies waiting
/// for slow upstreams are bounded per stream (its window) and per connection (its buffer limit); streams the
/// client resets in the read that opened them never reach an upstream.
@Suite struct H2BackpressureTests {
    struct Server {
        let loop = EmbeddedEventLoop()
        let upstreams: ExchangeEmbeddedTests.EmbeddedUpstreams
        let worker: Worker
        let caller: EmbeddedChannel

        init(settings: HTTPConnectionSettings = HTTPConnectionSettings()) throws {
            upstreams = ExchangeEmbeddedTests.EmbeddedUpstreams(loop: loop)
            worker = Worker(loop: loop, connector: upstreams)
            let route = Route(match: RouteMatch(path: .prefix("/")), action: .forward(ForwardAction(clusters: [WeightedCluster(name: "c")])))
            let table = HTTPFilterRegistry.compile(RouteTable(name: "r", virtualHosts: [VirtualHost(name: "vh", domains: ["reviews"], routes: [route])]))
            worker.apply(ProxySnapshot(routeTables: ["r": table], clusters: ["c": ClusterConfig(name: "c", endpoints: [EndpointConfig(host: "10.0.0.1", port: 80)])]))
            let origin = DownstreamOrigin(worker: worker, routeTable: "r", sourceAddress: "127.0.0.2", settings: settings,
                                          listenerGuard: ListenerGuard())
            caller = EmbeddedChannel(handler: H2ServerHandler(origin: origin), loop: loop)
            try caller.connect(to: SocketAddress(ipAddress: "127.0.0.2", port: 40000)).wait()
        }

        /// The frames arrive in one read (writeInbound would make each its own read).
        func read(_ frames: [HTTP2Frame]) throws {
            for f in frames { caller.pipeline.fireChannelRead(NIOAny(f)) }
            caller.pipeline.fireChannelReadComplete()
            try caller.throwIfErrorCaught()
        }

        static func post(_ id: Int) -> HTTP2Frame {
            var h = HPACKHeaders()
            h.add(name: ":method", value: "POST")
            h.add(name: ":path", value: "/up")
            h.add(name: ":scheme", value: "http")
            h.add(name: ":authority", value: "reviews")
            return HTTP2Frame(streamID: HTTP2StreamID(id), payload: .headers(.init(headers: h)))
        }

        static func data(_ id: Int, _ n: Int) -> HTTP2Frame {
            HTTP2Frame(streamID: HTTP2StreamID(id), payload: .data(.init(data: .byteBuffer(ByteBuffer(repeating: 0x61, count: n)))))
        }

        /// WINDOW_UPDATE increments written so far: on the connection, and on streams in all.
        func windowUpdates() throws -> (connection: Int, streams: Int) {
            var c = 0, s = 0
            while let f = try caller.readOutbound(as: HTTP2Frame.self) {
                if case let .windowUpdate(n) = f.payload { if f.streamID == .rootStream { c += n } else { s += n } }
            }
            return (c, s)
        }
    }

    @Test func requestBodiesForSlowUpstreamsAreBoundedPerConnection() throws {
        let server = try Server()
        let streams = (0..<40).map { 1 + 2 * $0 }
        try server.read(streams.map(Server.post))
        #expect(server.upstreams.channels.count == 40)
        // Every upstream stops taking bytes: each stream's window is withheld from now on.
        for ch in server.upstreams.channels {
            ch.isWritable = false
            ch.pipeline.fireChannelWritabilityChanged()
        }
        let chunk = 64 << 10
        for id in streams { try server.read([Server.data(id, chunk)]) }
        let held = try server.windowUpdates()
        #expect(held.streams == 0, "stream windows were reopened for upstreams that take nothing")
        // 2.5 MiB arrived; the connection's window came back only while less than 1 MiB was waiting.
        #expect(held.connection >= (1 << 20) - chunk && held.connection < 1 << 20, "connection window returned: \(held.connection)")
        // The upstreams drain: every byte's window goes back.
        for ch in server.upstreams.channels {
            ch.isWritable = true
            ch.pipeline.fireChannelWritabilityChanged()
        }
        let after = try server.windowUpdates()
        #expect(held.connection + after.connection == 40 * chunk)
        #expect(after.streams == 40 * chunk)
    }

    @Test func aStreamResetInTheReadThatOpenedItNeverReachesAnUpstream() throws {
        let server = try Server()
        try server.read([Server.post(1), HTTP2Frame(streamID: 1, payload: .rstStream(.cancel)), Server.post(3)])
        #expect(server.upstreams.channels.count == 1, "only the stream that was not reset is sent upstream")
    }

    @Test func halfOfTheStreamsResetEarlyClosesTheConnection() throws {
        var settings = HTTPConnectionSettings()
        settings.prematureResetsPerSecond = nil
        let server = try Server(settings: settings)
        var id = 1
        // Envoy's check: 250 premature resets among the first 500 streams close the connection.
        for _ in 0..<249 {
            try server.read([Server.post(id), HTTP2Frame(streamID: HTTP2StreamID(id), payload: .rstStream(.cancel))])
            id += 2
        }
        #expect(server.caller.isActive)
        try server.read([Server.post(id), HTTP2Frame(streamID: HTTP2StreamID(id), payload: .rstStream(.cancel))])
        #expect(!server.caller.isActive)
        var goAway = false
        while let f = try server.caller.readOutbound(as: HTTP2Frame.self) {
            if case let .goAway(_, code, _) = f.payload, code == .enhanceYourCalm { goAway = true }
        }
        #expect(goAway)
    }

    @Test func theListenerBudgetEndsConnectionsThatResetPastIt() throws {
        var settings = HTTPConnectionSettings()
        settings.prematureResetsPerSecond = 3
        let g = ListenerGuard()
        let now = NIODeadline.uptimeNanoseconds(5_000_000_000)
        #expect((0..<3).allSatisfy { _ in g.allowPrematureReset(perSecond: 3, now: now) })
        #expect(!g.allowPrematureReset(perSecond: 3, now: now))
        #expect(g.allowPrematureReset(perSecond: 3, now: now + .seconds(1)), "a new second has a new budget")
        let server = try Server(settings: settings)
        // Well under the per-connection check; the fourth in a second (seventh if a second ends meanwhile) ends it.
        var sent = 0
        for id in stride(from: 1, to: 21, by: 2) where server.caller.isActive {
            try server.read([Server.post(id), HTTP2Frame(streamID: HTTP2StreamID(id), payload: .rstStream(.cancel))])
            sent += 1
        }
        #expect(!server.caller.isActive)
        #expect(sent >= 4 && sent <= 7, "\(sent) resets before the connection was ended")
    }
}
