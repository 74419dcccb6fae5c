import NIOCore
import NIOHTTP1
import ProxyConfig
import ProxyRouting

/// The downstream side of one HTTP/1.x connection (or one HTTP/2 stream through NIO's HTTP/1 codec):
/// hands each request to an Exchange and writes what the Exchange answers.
final class DownstreamHandler: ChannelDuplexHandler, RemovableChannelHandler, DownstreamSink, DownstreamConnectionHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let origin: DownstreamOrigin
    var worker: Worker { origin.worker }
    var context: ChannelHandlerContext?
    var exchange: Exchange?
    var closesAfterResponse = false

    lazy var timeouts = ConnectionTimeouts(settings: origin.settings, loop: origin.worker.loop,
                                           inFlight: { [unowned self] in exchange?.lastActivity },
                                           expired: { [unowned self] in timedOut($0) })

    init(origin: DownstreamOrigin) { self.origin = origin }

    func handlerAdded(context: ChannelHandlerContext) {
        connectionAdded(context)
        timeouts.start()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeouts.stop()
        exchange?.downstreamClosed()
        exchange = nil
        connectionRemoved()
    }

    /// A timeout of the connection ran out (see ConnectionTimeouts).
    func timedOut(_ what: ConnectionTimeouts.Expired) {
        guard let context else { return }
        switch what {
        case .idle: context.close(promise: nil)
        case .streamIdle: exchange?.streamIdleTimedOut()
        case .requestHeaders:
            // As Envoy: 408 and close, the request's headers never completed (written past the HTTP handlers,
            // which have no request to answer).
            if let answer = timeouts.answerRaw {
                answer("HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            } else {
                context.close(promise: nil)
            }
        }
    }

    func closeAfterResponse() { closesAfterResponse = true }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            worker.stats.downstreamRequests += 1
            timeouts.requestStarted()
            closesAfterResponse = !head.isKeepAlive
            let x = Exchange(downstream: self, head: head)
            exchange = x
            x.start()
        case let .body(b): exchange?.requestBody(b)
        case let .end(t): exchange?.requestEnd(t)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.flushUpstream()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        exchange?.downstreamClosed()
        exchange = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        exchange?.downstreamWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    // MARK: called by the Exchange

    func writeHead(_ head: HTTPResponseHead) {
        guard let context else { return }
        var head = head
        if closesAfterResponse { head.headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func writeInformational(_ head: HTTPResponseHead) {
        context?.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
    }

    func writeBody(_ b: ByteBuffer) {
        context?.write(wrapOutboundOut(.body(.byteBuffer(b))), promise: nil)
    }

    func flush() { context?.flush() }

    func writeEnd(_ trailers: HTTPHeaders?, from x: Exchange) {
        guard let context else { return }
        if closesAfterResponse {
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        }
        if exchange === x { exchange = nil }
        timeouts.requestEnded()
    }

    /// Stops or resumes reading the caller while the upstream cannot take more (backpressure).
    func setReading(_ on: Bool) {
        guard let channel = context?.channel else { return }
        channel.setOption(ChannelOptions.autoRead, value: on).whenSuccess { if on { channel.read() } }
    }

    func abort() {
        context?.close(promise: nil)
    }

    func localReply(_ status: HTTPResponseStatus, flag: ResponseFlag?, body: String, extra: HTTPHeaders = [:], from x: Exchange) {
        writeLocalReply(status, flag: flag, body: body, extra: extra, from: x)
    }

    var upgradeContext: ChannelHandlerContext? { context }
}
