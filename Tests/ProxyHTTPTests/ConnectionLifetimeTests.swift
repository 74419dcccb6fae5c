import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing
@testable import ProxyHTTP

/// A connection's handlers, its streams and their exchanges are freed once it closes: nothing a connection
/// creates outlives it (a sidecar serves millions of connections).
@Suite struct ConnectionLifetimeTests {
    @Test func anHTTP1ConnectionFreesItsHandlerWhenItCloses() throws {
        weak var handler: DownstreamHandler?
        let p = try ExchangeEmbeddedTests.Proxy()
        try p.send(ExchangeEmbeddedTests.get)
        handler = try p.caller.pipeline.syncOperations.handler(type: DownstreamHandler.self)
        #expect(handler != nil)
        try p.respond(0, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        #expect(try p.answered().hasSuffix("ok"))
        try p.caller.close().wait()
        p.loop.run()
        #expect(handler == nil, "the HTTP/1 handler outlived its connection")
    }

    @Test func anHTTP2ConnectionFreesItsHandlerStreamsAndExchangesWhenItCloses() throws {
        weak var handler: H2ServerHandler?
        weak var sink: H2StreamSink?
        weak var exchange: Exchange?
        let server = try H2BackpressureTests.Server()
        handler = try server.caller.pipeline.syncOperations.handler(type: H2ServerHandler.self)
        try server.read([H2BackpressureTests.Server.post(1), H2BackpressureTests.Server.post(3)])
        sink = handler?.streams[1]
        exchange = sink?.exchange
        #expect(sink != nil && exchange != nil)
        try server.upstreams.channels[1].writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"))
        try server.caller.close().wait()
        server.loop.run()
        #expect(handler == nil, "the HTTP/2 handler outlived its connection")
        #expect(sink == nil && exchange == nil, "a stream or its exchange outlived the connection")
    }
}
