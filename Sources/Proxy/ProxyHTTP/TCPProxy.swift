import NIOCore
import NIOPosix
import ProxyConfig
import ProxyRouting

/// Plain TCP proxying: each accepted connection is glued to a new connection to an endpoint of the
/// listener's (weighted) cluster; bytes flow both ways with backpressure.
final class TCPProxyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let worker: Worker
    let clusters: [WeightedCluster]
    var peer: (any Channel)?
    var pending: [ByteBuffer] = []
    var context: ChannelHandlerContext?
    /// The caller finished sending (half-close) before the upstream connection was ready.
    var inputClosed = false

    init(worker: Worker, clusters: [WeightedCluster]) {
        self.worker = worker
        self.clusters = clusters
    }

    /// Added to a connection that is already open (after the mesh TLS sniffer): start now.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
    }

    func start(_ context: ChannelHandlerContext) {
        guard self.context == nil else { return }
        self.context = context
        let total = clusters.reduce(0) { $0 + max(0, $1.weight) }
        let action = ForwardAction(clusters: clusters)
        guard let wc = action.pick(random: worker.random(below: max(1, total))), let rt = worker.upstreams.cluster(wc.name),
              let picked = rt.pick(hash: nil, random: { worker.random(below: $0) }) else {
            context.close(promise: nil)
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
                    self.context?.close(promise: nil)
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
