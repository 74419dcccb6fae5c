import NIOCore
import NIOHTTP1
import NIOPosix
import ProxyRouting

/// What an upstream connection reports to the exchange that is using it (same event loop).
protocol UpstreamDelegate: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    func upstreamBody(_ body: ByteBuffer)
    func upstreamEnd(_ trailers: HTTPHeaders?)
    func upstreamClosed(_ error: (any Error)?)
    func upstreamWritabilityChanged(_ writable: Bool)
}

/// One keep-alive HTTP/1.1 connection to an endpoint.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    var served = 0
    /// Whether it has carried a request before (a reused connection may have been closed by the peer).
    var reused: Bool { served > 0 }

    init(channel: any Channel, handler: UpstreamHandler) {
        self.channel = channel
        self.handler = handler
    }

    func write(_ part: HTTPClientRequestPart, flush: Bool) {
        if flush { channel.writeAndFlush(part, promise: nil) } else { channel.write(part, promise: nil) }
    }
}

final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    weak var delegate: (any UpstreamDelegate)?
    var onClose: (() -> Void)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h): delegate?.upstreamHead(h)
        case let .body(b): delegate?.upstreamBody(b)
        case let .end(t): delegate?.upstreamEnd(t)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let d = delegate
        delegate = nil
        onClose?()
        d?.upstreamClosed(nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let d = delegate
        delegate = nil
        d?.upstreamClosed(error)
        context.close(promise: nil)
    }
}

enum UpstreamError: Error {
    case overflow
    case connectFailed(any Error)
}

/// Connections of one worker to one endpoint: reuses idle ones, opens new ones up to the cluster's limit,
/// queues up to the pending limit, and refuses beyond it (Envoy's circuit breaker, per worker).
final class UpstreamPool {
    let key: EndpointKey
    var cluster: ClusterConfig
    let loop: any EventLoop
    let stats: WorkerStats
    var idle: [UpstreamConnection] = []
    var open = 0
    var activeRequests = 0
    var waiters: [(Result<UpstreamConnection, UpstreamError>) -> Void] = []
    var retired = false

    init(key: EndpointKey, cluster: ClusterConfig, loop: any EventLoop, stats: WorkerStats) {
        self.key = key
        self.cluster = cluster
        self.loop = loop
        self.stats = stats
    }

    func acquire(_ done: @escaping (Result<UpstreamConnection, UpstreamError>) -> Void) {
        while let c = idle.popLast() {
            if c.channel.isActive {
                activeRequests += 1
                done(.success(c))
                return
            }
        }
        if open < cluster.limits.maxConnections {
            connect(done)
        } else if waiters.count < cluster.limits.maxPendingRequests {
            waiters.append(done)
        } else {
            done(.failure(.overflow))
        }
    }

    func connect(_ done: @escaping (Result<UpstreamConnection, UpstreamError>) -> Void) {
        open += 1
        stats.update(key.cluster) { $0.connectionsOpened += 1; $0.connectionsActive += 1 }
        let handler = UpstreamHandler()
        ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(cluster.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHTTPClientHandlers()
                    try ch.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: key.host, port: key.port)
            .whenComplete { [self] result in
                switch result {
                case let .success(ch):
                    let conn = UpstreamConnection(channel: ch, handler: handler)
                    handler.onClose = { [weak self] in self?.closed(conn) }
                    activeRequests += 1
                    done(.success(conn))
                case let .failure(error):
                    open -= 1
                    stats.update(key.cluster) { $0.connectFailures += 1; $0.connectionsActive -= 1 }
                    done(.failure(.connectFailed(error)))
                    serveWaiter()
                }
            }
    }

    /// Gives a connection back after an exchange; `reusable` when the exchange ended cleanly with keep-alive.
    func release(_ c: UpstreamConnection, reusable: Bool) {
        activeRequests -= 1
        c.handler.delegate = nil
        c.served += 1
        let limit = cluster.maxRequestsPerConnection ?? Int.max
        if reusable && !retired && c.channel.isActive && c.served < limit {
            if let w = waiters.first {
                waiters.removeFirst()
                activeRequests += 1
                w(.success(c))
            } else {
                idle.append(c)
            }
        } else {
            c.channel.close(promise: nil)
        }
    }

    func closed(_ c: UpstreamConnection) {
        open -= 1
        stats.update(key.cluster) { $0.connectionsActive -= 1 }
        idle.removeAll { $0 === c }
        serveWaiter()
    }

    func serveWaiter() {
        guard !waiters.isEmpty, open < cluster.limits.maxConnections else { return }
        connect(waiters.removeFirst())
    }

    /// The endpoint left the cluster: close idle connections now, busy ones when their exchange ends.
    func retire() {
        retired = true
        for c in idle { c.channel.close(promise: nil) }
        idle.removeAll()
        let w = waiters
        waiters.removeAll()
        for done in w { done(.failure(.overflow)) }
    }
}
