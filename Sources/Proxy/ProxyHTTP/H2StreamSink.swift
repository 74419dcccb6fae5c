import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import ProxyConfig

/// One HTTP/2 stream seen as a DownstreamSink by its Exchange.
final class H2StreamSink: DownstreamSink {
    unowned let connection: H2ServerHandler
    let id: HTTP2StreamID
    var exchange: Exchange?
    var ended = false
    let opened = NIODeadline.now()
    /// Bytes last went either way on this stream (its idle timeout runs from here).
    var lastActivity = NIODeadline.now()
    /// A stream not started yet (until its read completes): its headers, and request parts that came with them.
    var waiting: (HTTP2Frame.FramePayload.Headers, [Queued])?
    enum Queued { case body(ByteBuffer), end(HTTPHeaders?) }
    /// This stream's response bytes not yet on the wire, and whether its upstream is held back for them.
    var unsent = 0
    var paused = false
    /// The request's upstream cannot take more: the client gets no more window for this stream until it can.
    var holdingCredit = false

    init(connection: H2ServerHandler, id: HTTP2StreamID) {
        self.connection = connection
        self.id = id
    }

    var origin: DownstreamOrigin { connection.origin }

    func requestBody(_ b: ByteBuffer) {
        if waiting != nil { waiting!.1.append(.body(b)) } else { exchange?.requestBody(b) }
    }

    func requestEnd(_ trailers: HTTPHeaders?) {
        if waiting != nil { waiting!.1.append(.end(trailers)) } else { exchange?.requestEnd(trailers) }
    }

    var upgradeContext: ChannelHandlerContext? { nil }

    /// Headers that belong to one HTTP/1 connection and are not allowed in HTTP/2.
    static let connectionSpecific: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]

    func writeHead(_ head: HTTPResponseHead) {
        guard !ended else { return }
        var h = HPACKHeaders()
        h.add(name: ":status", value: String(head.status.code))
        for (name, value) in head.headers {
            let lower = name.lowercased()
            if !Self.connectionSpecific.contains(lower) { h.add(name: lower, value: value) }
        }
        connection.write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: h))))
    }

    func writeInformational(_ head: HTTPResponseHead) {
        guard !ended else { return }
        var h = HPACKHeaders()
        h.add(name: ":status", value: String(head.status.code))
        connection.write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: h))))
        flush()
    }

    func writeBody(_ b: ByteBuffer) {
        guard !ended, let loop = connection.context?.eventLoop else { return }
        lastActivity = .now()
        let n = b.readableBytes
        unsent += n
        connection.unsent += n
        let written = loop.makePromise(of: Void.self)
        // The connection's handler may be gone when a write fails at close: it is held weakly here.
        written.futureResult.whenComplete { [self, weak owner = connection] _ in
            unsent -= n
            guard let owner else { return }
            owner.sent(n)
            if paused && unsent < H2ServerHandler.streamLow && owner.unsent < owner.connectionLow { resume() }
        }
        connection.write(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(b)))), promise: written)
        if !paused && (unsent > H2ServerHandler.streamHigh || connection.unsent > connection.connectionHigh) {
            paused = true
            exchange?.downstreamWritabilityChanged(false)
        }
    }

    func resume() {
        paused = false
        exchange?.downstreamWritabilityChanged(true)
    }

    func flush() { connection.context?.flush() }

    func writeEnd(_ trailers: HTTPHeaders?, from x: Exchange) {
        guard !ended else { return }
        ended = true
        connection.closedStreams += 1
        releaseCredit()
        if let trailers, !trailers.isEmpty {
            var h = HPACKHeaders()
            for (name, value) in trailers { h.add(name: name.lowercased(), value: value) }
            connection.write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: h, endStream: true))))
        } else {
            connection.write(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))))
        }
        flush()
        if exchange === x { exchange = nil }
        if connection.streams[id] === self { connection.streams[id] = nil }
    }

    /// The upstream's backpressure on the request body: window for this stream is withheld while it is off.
    func setReading(_ on: Bool) {
        guard holdingCredit == on else { return }
        holdingCredit = !on
        connection.holdingStreams += on ? -1 : 1
        if on { connection.returnCredit(id) }
    }

    /// The stream is over: credit it withheld no longer counts against the connection.
    func releaseCredit() {
        guard holdingCredit else { return }
        holdingCredit = false
        connection.holdingStreams -= 1
        connection.returnConnectionCredit()
        flush()
    }

    /// Refusing one stream does not end an HTTP/2 connection.
    func closeAfterResponse() {}

    func abort() {
        guard !ended else { return }
        ended = true
        releaseCredit()
        connection.write(HTTP2Frame(streamID: id, payload: .rstStream(.internalError)))
        flush()
        connection.streams[id] = nil
    }

    func localReply(_ status: HTTPResponseStatus, flag: ResponseFlag?, body: String, extra: HTTPHeaders, from x: Exchange) {
        writeLocalReply(status, flag: flag, body: body, extra: extra, from: x)
    }

    /// The peer reset the stream or the connection went away.
    func reset() {
        ended = true
        releaseCredit()
        exchange?.downstreamClosed()
        exchange = nil
    }
}
