import NIOCore
import NIOHTTP1
import NIOHTTP2
import ProxyConfig
import ProxyRouting

/// Looks at the first bytes of a cleartext connection: the HTTP/2 connection preface (prior knowledge,
/// as gRPC clients send it) gets an HTTP/2 pipeline with one DownstreamHandler per stream; anything else
/// gets the HTTP/1.x pipeline. Then it steps out of the way and replays what it read.
final class ProtocolDetector: FirstBytesHandler {

    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    let worker: Worker
    let routeTable: String
    let settings: HTTPConnectionSettings
    let listenerGuard: ListenerGuard
    /// The TLS connection's state (SNI, how to name the caller in x-forwarded-client-cert); nil for plaintext.
    let tls: DownstreamTLSState?
    /// The listener's network RBAC filters, checked once the connection is ready.
    let networkRBAC: [RBACFilterConfig]
    let telemetry: ListenerTelemetry?

    init(worker: Worker, routeTable: String, settings: HTTPConnectionSettings, guard: ListenerGuard, tls: DownstreamTLSState? = nil,
         networkRBAC: [RBACFilterConfig] = [], telemetry: ListenerTelemetry? = nil) {
        self.telemetry = telemetry
        self.worker = worker
        self.routeTable = routeTable
        self.settings = settings
        listenerGuard = `guard`
        self.tls = tls
        self.networkRBAC = networkRBAC
    }

    override func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = buffer(data).readableBytesView
        let n = min(bytes.count, Self.preface.count)
        let isH2Prefix = bytes.prefix(n).elementsEqual(Self.preface.prefix(n))
        if isH2Prefix && n < Self.preface.count { return }  // need more bytes to decide
        decide(context) { try configure(context: context, http2: isH2Prefix) }
    }

    func configure(context: ChannelHandlerContext, http2: Bool) throws {
        let sync = context.pipeline.syncOperations
        let source = context.channel.remoteAddress?.ipAddress ?? ""
        // The TLS handshake is done by the time the first decrypted bytes arrive here: the connection's facts
        // (peer identity, SNI, addresses) are read once, for all its requests.
        let (facts, cert) = ConnectionAuthorization.facts(context.channel, tls: tls)
        guard ConnectionAuthorization.admits(networkRBAC, facts, worker: worker) else { throw ConnectionDenied() }
        var origin = DownstreamOrigin(worker: worker, routeTable: routeTable, sourceAddress: source, settings: settings,
                                      listenerGuard: listenerGuard, clientCertHeader: tls?.clientCertHeader(cert), connection: facts,
                                      telemetry: telemetry)
        if telemetry?.accessLogs.isEmpty == false {
            origin.remoteText = ExchangeLog.text(context.channel.remoteAddress)
            origin.localText = ExchangeLog.text(context.channel.localAddress)
        }
        if http2 {
            var conn = NIOHTTP2Handler.ConnectionConfiguration()
            conn.initialSettings = [HTTP2Setting(parameter: .maxConcurrentStreams, value: settings.http2MaxConcurrentStreams),
                                    HTTP2Setting(parameter: .initialWindowSize, value: settings.http2InitialStreamWindow),
                                    HTTP2Setting(parameter: .maxHeaderListSize, value: settings.maxRequestHeadersBytes)]
            try sync.addHandler(NIOHTTP2Handler(mode: .server, connectionConfiguration: conn, streamConfiguration: .init()))
            try sync.addHandler(H2ServerHandler(origin: origin))
        } else {
            // Added right after this handler, last one first: decoder, encoder, pipelining, errors, proxy.
            let here = ChannelPipeline.SynchronousOperations.Position.after(context.handler)
            let downstream = DownstreamHandler(origin: origin)
            try sync.addHandler(downstream, position: here)
            try sync.addHandler(ProtocolErrorReplier(), position: here)
            try sync.addHandler(HTTPServerPipelineHandler(), position: here)
            try sync.addHandler(HTTPResponseEncoder(), position: here)
            try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)), position: here)
            if settings.requestHeadersTimeout != nil {
                try sync.addHandler(RequestBytesWatcher(timeouts: downstream.timeouts), position: here)
            }
        }
    }
}

/// Sits before the HTTP/1 decoder and tells the connection's timeouts when a request's bytes start to arrive
/// (the request headers timeout runs from the first byte, as Envoy's).
final class RequestBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    weak var timeouts: ConnectionTimeouts?

    init(timeouts: ConnectionTimeouts) { self.timeouts = timeouts }

    /// Answers straight to the socket, past the HTTP encoder: a 408 for headers that never completed has no
    /// request for the HTTP handlers to answer.
    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timeouts?.answerRaw = { text in
            let context = loopBound.value
            context.writeAndFlush(NIOAny(ByteBuffer(string: text))).whenComplete { _ in context.close(promise: nil) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timeouts?.requestBytes()
        context.fireChannelRead(data)
    }
}

/// A connection its listener's network RBAC denied (closed before anything is read from it).
struct ConnectionDenied: Error {}
