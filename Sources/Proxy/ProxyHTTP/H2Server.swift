import NIOCore
import NIOHPACK
import NIOHTTP1
import ProxyConfig
import ProxyRouting
import NIOHTTP2

/// HTTP/2 downstream at the frame level: one handler per connection keeps its streams as plain objects
/// (no child channel per stream), turns HEADERS/DATA into the same Exchange as HTTP/1, and returns flow-control
/// credit as data is handed on.
final class H2ServerHandler: ChannelInboundHandler, DownstreamConnectionHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    let origin: DownstreamOrigin
    var worker: Worker { origin.worker }
    var context: ChannelHandlerContext?
    var streams: [HTTP2StreamID: H2StreamSink] = [:]
    /// Bytes received and handed on, not yet returned to the peer as WINDOW_UPDATE.
    var connectionCredit = 0
    var streamCredit: [HTTP2StreamID: Int] = [:]
    /// Streams whose window is withheld (their upstream cannot take more of the request body).
    var holdingStreams = 0
    /// Response bytes handed to NIOHTTP2 and not yet on the wire (held by the client's flow-control windows), in
    /// all; each stream keeps its own count. Above a high mark a stream's upstream stops being read, below the
    /// low marks it resumes (Envoy's per-connection buffer limit is 1 MiB): a client that opens many streams and
    /// never grants window costs the proxy about a MiB, not the responses' size.
    var unsent = 0
    let connectionHigh: Int, connectionLow: Int
    static let streamHigh = 64 << 10, streamLow = 16 << 10
    /// Streams opened in this read, started when it completes: a stream the client resets in the same read
    /// (rapid reset sends HEADERS and RST_STREAM together) never reaches an upstream.
    var toStart: [H2StreamSink] = []
    /// Envoy's premature-reset check: streams ended, and of those reset by the client within a second of opening.
    var closedStreams = 0, prematureResets = 0
    static let prematureResetWindow = TimeAmount.seconds(1), prematureResetStreamCount = 500

    /// The connection's idle timeout (no stream open) and each stream's idle timeout (no bytes either way for
    /// `stream_idle_timeout`: 408 before its response started, else a reset), on one scheduled check.
    lazy var timeouts = ConnectionTimeouts(settings: h2Timeouts, loop: origin.worker.loop,
                                           inFlight: { [unowned self] in oldestActivity() },
                                           expired: { [unowned self] in timedOut($0) })

    /// HTTP/2 has no request-headers phase of its own to time (a HEADERS frame arrives whole).
    var h2Timeouts: HTTPConnectionSettings {
        var s = origin.settings
        s.requestHeadersTimeout = nil
        return s
    }

    /// The least recent activity of any open stream, nil when none is open.
    func oldestActivity() -> NIODeadline? {
        var oldest: NIODeadline?
        for s in streams.values where oldest.map({ s.lastActivity < $0 }) ?? true { oldest = s.lastActivity }
        return oldest
    }

    func timedOut(_ e: ConnectionTimeouts.Expired) {
        guard case .streamIdle = e else {
            context?.close(promise: nil)
            return
        }
        guard let limit = origin.settings.streamIdleTimeout else { return }
        let now = NIODeadline.now()
        for sink in Array(streams.values) where sink.lastActivity + TimeAmount(limit) <= now {
            sink.lastActivity = now
            if let x = sink.exchange { x.streamIdleTimedOut() } else { sink.abort() }
        }
    }

    init(origin: DownstreamOrigin) {
        self.origin = origin
        connectionHigh = origin.settings.connectionBufferLimit
        connectionLow = connectionHigh / 4
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connectionAdded(context)
        timeouts.start()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeouts.stop()
        closeAll()
        connectionRemoved()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let id = frame.streamID
        switch frame.payload {
        case let .headers(h):
            if let sink = streams[id] {
                sink.requestEnd(Self.http1Headers(h.headers))  // trailers
            } else {
                openStream(id, h)
            }
        case let .data(d):
            guard let sink = streams[id], case let .byteBuffer(b) = d.data else { return }
            sink.lastActivity = .now()
            connectionCredit += d.paddingBytes.map { b.readableBytes + $0 + 1 } ?? b.readableBytes
            streamCredit[id, default: 0] += b.readableBytes
            if b.readableBytes > 0 { sink.requestBody(b) }
            if d.endStream {
                streamCredit[id] = nil
                sink.requestEnd(nil)
            }
        case .rstStream:
            streamCredit[id] = nil
            guard let sink = streams.removeValue(forKey: id) else { return }
            let premature = !sink.ended && NIODeadline.now() - sink.opened < Self.prematureResetWindow
            sink.reset()
            streamClosed(premature: premature)
        case .goAway:
            break
        default:
            break
        }
    }

    /// A stream ended: a premature reset counts against the connection (Envoy's check: half of its first 500
    /// streams, or of all later) and against the listener's budget per second; past either, GOAWAY and close.
    func streamClosed(premature: Bool) {
        closedStreams += 1
        guard premature else { return }
        prematureResets += 1
        let n = Self.prematureResetStreamCount
        let tooMany = closedStreams < n ? prematureResets * 2 >= n : prematureResets * 2 >= closedStreams
        let overBudget = origin.settings.prematureResetsPerSecond.map { !origin.listenerGuard.allowPrematureReset(perSecond: $0) } ?? false
        guard tooMany || overBudget, let context else { return }
        worker.stats.localReplies["premature_resets", default: 0] += 1
        context.write(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: .maxID, errorCode: .enhanceYourCalm, opaqueData: nil))), promise: nil)
        context.flush()
        context.close(promise: nil)
    }

    func openStream(_ id: HTTP2StreamID, _ h: HTTP2Frame.FramePayload.Headers) {
        let sink = H2StreamSink(connection: self, id: id)
        sink.waiting = (h, [])
        streams[id] = sink
        toStart.append(sink)
        if h.endStream { sink.requestEnd(nil) }
    }

    /// Starts the streams opened in this read that the client did not reset meanwhile.
    func startOpened() {
        // Starting a stream opens none, so toStart does not change while it is walked (and keeps its storage).
        defer { toStart.removeAll(keepingCapacity: true) }
        for sink in toStart where streams[sink.id] === sink {
            guard let (h, queued) = sink.waiting else { continue }
            sink.waiting = nil
            startStream(sink, h)
            for part in queued {
                switch part {
                case let .body(b): sink.exchange?.requestBody(b)
                case let .end(trailers): sink.exchange?.requestEnd(trailers)
                }
            }
        }
    }

    func startStream(_ sink: H2StreamSink, _ h: HTTP2Frame.FramePayload.Headers) {
        var method = "GET", path = "/", authority = ""
        var headers = HTTPHeaders()
        for (name, value, _) in h.headers {
            switch name {
            case ":method": method = value
            case ":path": path = value
            case ":authority": authority = value
            case ":scheme": break
            default: headers.add(name: name, value: value)
            }
        }
        if !authority.isEmpty { headers.replaceOrAdd(name: "host", value: authority) }
        worker.stats.downstreamRequests += 1
        let head = HTTPRequestHead(version: HTTPVersion(major: 2, minor: 0), method: HTTPMethod(rawValue: method), uri: path, headers: headers)
        let x = Exchange(downstream: sink, head: head)
        sink.exchange = x
        x.start()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !toStart.isEmpty { startOpened() }
        returnConnectionCredit()
        for (id, credit) in streamCredit where credit > 0 && streams[id].map({ !$0.holdingCredit }) == true {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .windowUpdate(windowSizeIncrement: credit))), promise: nil)
            streamCredit[id] = 0
        }
        for sink in streams.values { sink.exchange?.flushUpstream() }
        context.flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Stream-level protocol errors are answered by NIOHTTP2Handler; anything reaching here ends the connection.
        context.close(promise: nil)
    }

    func closeAll() {
        let all = streams.values
        streams.removeAll()
        for s in all { s.reset() }
    }

    func write(_ frame: HTTP2Frame, promise: EventLoopPromise<Void>? = nil) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    /// Bytes of a stream's response reached the wire (or were dropped with the stream): streams held back for
    /// the connection's total go on once it is below its low mark.
    func sent(_ n: Int) {
        let wasHigh = unsent >= connectionLow
        unsent -= n
        guard wasHigh, unsent < connectionLow else { return }
        for s in streams.values where s.paused && s.unsent < Self.streamLow { s.resume() }
    }

    /// Stream credit withheld while a stream's upstream could not take more is returned now.
    func returnCredit(_ id: HTTP2StreamID) {
        returnConnectionCredit()
        if let credit = streamCredit[id], credit > 0 {
            write(HTTP2Frame(streamID: id, payload: .windowUpdate(windowSizeIncrement: credit)))
            streamCredit[id] = 0
        }
        context?.flush()
    }

    /// The connection's window goes back as request bytes are taken, unless the bytes withheld from streams
    /// whose upstreams are slow reach the connection's buffer limit: then a client cannot open stream after
    /// stream to pile up request bodies (each stream alone is bounded by its own window).
    func returnConnectionCredit() {
        guard connectionCredit > 0, let context else { return }
        if holdingStreams > 0 {
            var withheld = 0
            for (id, credit) in streamCredit where streams[id]?.holdingCredit == true { withheld += credit }
            if withheld >= connectionHigh { return }
        }
        context.write(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: connectionCredit))), promise: nil)
        connectionCredit = 0
    }

    static func http1Headers(_ h: HPACKHeaders) -> HTTPHeaders {
        var out = HTTPHeaders()
        for (name, value, _) in h where !name.hasPrefix(":") { out.add(name: name, value: value) }
        return out
    }
}
