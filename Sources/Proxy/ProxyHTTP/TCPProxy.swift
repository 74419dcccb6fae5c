import NIOCore
import NIOPosix
import NIOTLS
import ProxyConfig
import ProxyRouting

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

    init(worker: Worker, clusters: [WeightedCluster], networkRBAC: [RBACFilterConfig] = [], tls: DownstreamTLSState? = nil) {
        self.worker = worker
        self.clusters = clusters
        self.networkRBAC = networkRBAC
        self.tls = tls
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
        let inbound = context.channel
        let tls = c.meshTLS(for: ep), credentials = worker.upstreams.credentials
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(TimeAmount(c.connectTimeout))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try credentials.addClientTLS(tls, to: ch.pipeline.syncOperations)
                    try ch.pipeline.syncOperations.addHandler(TCPPeerHandler(peer: inbound))
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
                    if let context = self.context { Self.closeNow(context) }
                }
            }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        if let peer { peer.write(b, promise: nil) } else { pending.append(b) }
    }

    func channelReadComplete(context: ChannelHandlerContext) { peer?.flush() }

    /// Half-close: the caller is done sending; pass the FIN on and keep reading the answer.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            if let peer { peer.close(mode: .output, promise: nil) } else { inputClosed = true }
            return
        }
        if awaitingHandshake, case .handshakeCompleted? = event as? TLSUserEvent {
            awaitingHandshake = false
            authorize(context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer?.close(promise: nil)
        self.context = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        peer?.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
    }
}

/// The upstream side of a TCP proxy connection: writes what it reads to the downstream channel.
final class TCPPeerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let peer: any Channel

    init(peer: any Channel) { self.peer = peer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { peer.write(unwrapInboundIn(data), promise: nil) }
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
