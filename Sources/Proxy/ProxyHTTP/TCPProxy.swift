import NIOCore
import NIOPosix
import NIOTLS
import ProxyConfig
import ProxyRouting
import WeftCore

/// Plain TCP proxying: each accepted connection is glued to a new connection to an endpoint of the
/// listener's (weighted) cluster; bytes flow both ways with backpressure. The listener's network RBAC filters
/// decide first, once the connection is ready (after the TLS handshake on mTLS, so the caller's identity is
/// known): a denied connection is closed before an upstream connection is made or a byte is proxied.
final class TCPProxyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let worker: Worker
    let clusters: [WeightedCluster]
    let networkRBAC: [RBACFilterConfig]
    /// The TLS connection's state; nil for plaintext.
    let tls: DownstreamTLSState?
    var peer: (any Channel)?
    var pending: [ByteBuffer] = []
    var context: ChannelHandlerContext?
    /// The caller finished sending (half-close) before the upstream connection was ready.
    var inputClosed = false
    /// Authorization waits for the TLS handshake to know the caller.
    var awaitingHandshake = false
    var handshakeDone = false
    /// How the listener labels the standard metrics, and the series this connection adds to once it is known
    /// (after the TLS handshake, which names the caller).
    let telemetry: ListenerTelemetry?
    var cluster: ClusterConfig?
    var series: StandardMetrics.TCPValues?
    /// What the listener's access logs write when the connection ends (nil when it writes none).
    var log: TCPLogState?

    init(worker: Worker, clusters: [WeightedCluster], networkRBAC: [RBACFilterConfig] = [], tls: DownstreamTLSState? = nil,
         telemetry: ListenerTelemetry? = nil) {
        self.worker = worker
        self.clusters = clusters
        self.networkRBAC = networkRBAC
        self.tls = tls
        self.telemetry = telemetry
    }

    /// Added to a connection that is already open (after the mesh TLS sniffer): start now.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { begin(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(context)
    }

    func begin(_ context: ChannelHandlerContext) {
        guard self.context == nil else { return }
        self.context = context
        if telemetry?.accessLogs.isEmpty == false {
            log = TCPLogState(startMicros: AccessLogLine.wallMicros(), started: .now(),
                              remote: ExchangeLog.text(context.channel.remoteAddress), local: ExchangeLog.text(context.channel.localAddress))
        }
        if networkRBAC.isEmpty { return start(context) }
        if tls != nil { awaitingHandshake = true } else { authorize(context) }
    }

    /// Checks the network RBAC filters on the ready connection; closes it when denied, else starts proxying.
    func authorize(_ context: ChannelHandlerContext) {
        let (facts, _) = ConnectionAuthorization.facts(context.channel, tls: tls)
        guard ConnectionAuthorization.admits(networkRBAC, facts, worker: worker) else {
            pending.removeAll()
            Self.closeNow(context)
            return
        }
        start(context)
    }

    /// Closes the caller's connection without waiting for it: half-closure is turned off first, or a TLS
    /// connection would wait for the caller's close_notify (NIOSSL's shutdown timeout, 5 s) before going.
    static func closeNow(_ context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: false)
        context.close(promise: nil)
    }

    func start(_ context: ChannelHandlerContext) {
        let total = clusters.reduce(0) { $0 + max(0, $1.weight) }
        let action = ForwardAction(clusters: clusters)
        guard let wc = action.pick(random: worker.random(below: max(1, total))), let rt = worker.upstreams.cluster(wc.name),
              let picked = rt.pick(hash: nil, random: { worker.random(below: $0) }) else {
            Self.closeNow(context)
            return
        }
        let c = rt.config, ep = picked.endpoint
        rt.count(.connection)
        cluster = c
        log?.upstreamHost = ExchangeLog.hostPort(ep.host, ep.port)
        if tls == nil || handshakeDone { startSeries(context) }
        let inbound = context.channel
        let tls = c.meshTLS(for: ep), credentials = worker.upstreams.credentials
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(TimeAmount(c.connectTimeout))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try credentials.addClientTLS(tls, to: ch.pipeline.syncOperations)
                    try ch.pipeline.syncOperations.addHandler(TCPPeerHandler(peer: inbound, owner: self))
                }
            }
            .connect(host: ep.host, port: ep.port)
            .whenComplete { [self] result in
                switch result {
                case let .success(ch):
                    peer = ch
                    for b in pending { ch.write(b, promise: nil) }
                    pending.removeAll()
                    ch.flush()
                    if inputClosed { ch.close(mode: .output, promise: nil) }
                case .failure:
                    rt.count(.connectFailure)
                    log?.flags = "UF"
                    if let context = self.context { Self.closeNow(context) }
                }
            }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        series?.receivedBytes += b.readableBytes
        log?.received += b.readableBytes
        if let peer { peer.write(b, promise: nil) } else { pending.append(b) }
    }

    func channelReadComplete(context: ChannelHandlerContext) { peer?.flush() }

    /// Half-close: the caller is done sending; pass the FIN on and keep reading the answer.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            if let peer { peer.close(mode: .output, promise: nil) } else { inputClosed = true }
            return
        }
        if case .handshakeCompleted? = event as? TLSUserEvent {
            handshakeDone = true
            if awaitingHandshake {
                awaitingHandshake = false
                authorize(context)
            } else if cluster != nil, series == nil {
                startSeries(context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer?.close(promise: nil)
        self.context = nil
        series?.closed += 1
        series = nil
        if let l = log, let logs = telemetry?.accessLogs {
            log = nil
            l.write(logs, cluster: cluster?.name, worker: worker)
        }
    }

    /// Counts the connection as opened in the series its labels name (Istio's, as for HTTP; TCP has no header to
    /// carry the peer's metadata, so a caller is known by its mTLS identity alone and a callee by its service).
    func startSeries(_ context: ChannelHandlerContext) {
        guard let t = telemetry, let c = cluster, series == nil else { return }
        let unknown = PeerMetadata.unknown
        var source: PeerMetadata, destination: PeerMetadata, policy: String
        switch t.reporter {
        case .destination:
            let certified = tls == nil ? nil : ConnectionAuthorization.facts(context.channel, tls: tls).0.peer?.uriSANs.first
            source = PeerMetadata(namespace: certified.flatMap { PeerMetadata.namespace(ofPrincipal: $0) } ?? unknown,
                                  principal: certified ?? unknown)
            destination = t.own
            if certified == nil { destination.principal = unknown }
            policy = certified == nil ? "none" : "mutual_tls"
        case .source:
            source = t.own
            source.principal = c.meshTLS == nil ? unknown : source.principal
            destination = PeerMetadata()
            policy = unknown
        }
        let s = worker.standard.tcpValues(StandardMetrics.TCPKey(
            reporter: t.reporter, source: source, destination: destination, service: c.services.first ?? .unknown,
            responseFlags: "-", securityPolicy: policy))
        s.opened += 1
        series = s
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        peer?.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
    }
}

/// The upstream side of a TCP proxy connection: writes what it reads to the downstream channel.
final class TCPPeerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let peer: any Channel
    /// The downstream side, whose metrics series counts the bytes sent back (same event loop).
    weak var owner: TCPProxyHandler?

    init(peer: any Channel, owner: TCPProxyHandler? = nil) {
        self.peer = peer
        self.owner = owner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        owner?.series?.sentBytes += b.readableBytes
        owner?.log?.sent += b.readableBytes
        peer.write(b, promise: nil)
    }
    func channelReadComplete(context: ChannelHandlerContext) { peer.flush() }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            peer.close(mode: .output, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
    func channelInactive(context: ChannelHandlerContext) { peer.close(promise: nil) }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        peer.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
    }
}
