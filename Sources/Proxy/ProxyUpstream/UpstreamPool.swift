import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import ProxyConfig

/// What an upstream connection reports to the exchange that is using it (same event loop).
package protocol UpstreamDelegate: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    func upstreamBody(_ body: ByteBuffer)
    func upstreamEnd(_ trailers: HTTPHeaders?)
    func upstreamClosed(_ error: (any Error)?)
    func upstreamWritabilityChanged(_ writable: Bool)
    /// The upstream read burst ended: flush what was written downstream in one go.
    func upstreamReadComplete()
}

/// One keep-alive HTTP/1.1 connection to an endpoint.
package final class UpstreamConnection {
    package let channel: any Channel
    let handler: UpstreamHandler
    /// An HTTP/2 stream (closed after one exchange) rather than an HTTP/1.1 connection.
    var isStream = false
    var served = 0
    /// The pool's connection generation when it was opened; an older one is not reused.
    var generation = 0
    /// Whether it has carried a request before (a reused connection may have been closed by the peer).
    package var reused: Bool { served > 0 }

    init(channel: any Channel, handler: UpstreamHandler) {
        self.channel = channel
        self.handler = handler
    }

    /// The exchange that gets this connection's response (set while it is in use).
    package var delegate: (any UpstreamDelegate)? {
        get { handler.delegate }
        set { handler.delegate = newValue }
    }

    package func write(_ part: HTTPClientRequestPart, flush: Bool) {
        if flush { channel.writeAndFlush(part, promise: nil) } else { channel.write(part, promise: nil) }
    }
}

final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
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

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
        context.fireChannelReadComplete()
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

package enum UpstreamError: Error {
    case overflow
    case connectFailed(any Error)
}

/// Connections of one worker to one endpoint: reuses idle ones, opens new ones while the cluster (across all
/// workers) is under its connection limit, queues while it is under its pending limit, and refuses beyond it
/// (Envoy's circuit breakers). As in Envoy, a pool with no connection at all opens one even at the limit, so
/// its queued requests always have a connection to wait for.
package final class UpstreamPool {
    let key: EndpointKey
    var cluster: ClusterConfig
    let loop: any EventLoop
    let stats: WorkerStats
    /// The cluster's counts across workers, and this endpoint's outlier state (shared by every worker's pool).
    let shared: SharedCluster
    let endpoint: SharedEndpoint
    let connector: any UpstreamConnector
    /// The proxy's mesh identity, for mTLS to endpoints that take it.
    let credentials: MeshCredentials
    var idle: [UpstreamConnection] = []
    var open = 0
    /// Requests using a connection of this pool (least-request balancing reads it).
    var activeRequests = 0
    var waiters: [(Result<UpstreamConnection, UpstreamError>) -> Void] = []
    var retired = false
    /// The endpoint is marked as taking mesh mTLS (auto mTLS reaches it over TLS).
    var endpointTLS: Bool
    /// Goes up when how connections are made changes (mesh TLS on or off), so older connections are not reused.
    var generation = 0
    /// The endpoint fails its cluster's active health check.
    var failedHealthCheck = false
    /// The HTTP/2 connection for clusters that speak HTTP/2 (gRPC): one per endpoint per worker, multiplexed.
    var h2: (channel: any Channel, mux: NIOHTTP2Handler.StreamMultiplexer)?
    var h2Waiters: [(Result<UpstreamConnection, UpstreamError>) -> Void] = []

    init(key: EndpointKey, cluster: ClusterConfig, loop: any EventLoop, stats: WorkerStats, shared: SharedCluster,
         endpoint: SharedEndpoint, endpointTLS: Bool = false, connector: any UpstreamConnector = TCPConnector(),
         credentials: MeshCredentials = MeshCredentials()) {
        self.endpointTLS = endpointTLS
        self.connector = connector
        self.credentials = credentials
        self.key = key
        self.cluster = cluster
        self.loop = loop
        self.stats = stats
        self.shared = shared
        self.endpoint = endpoint
    }

    /// Counts a new connection against the cluster's limit; false at the limit, unless this pool has none.
    func takeConnectionSlot() -> Bool {
        if SharedCluster.take(shared.connections, below: cluster.limits.maxConnections) { return true }
        guard open == 0 else { return false }
        shared.connections.wrappingAdd(1, ordering: .relaxed)
        return true
    }

    func connectionGone() {
        open -= 1
        shared.connections.wrappingSubtract(1, ordering: .relaxed)
    }

    /// A request stopped using its connection or stream.
    package func requestEnded() { activeRequests -= 1 }

    package func acquire(_ done: @escaping (Result<UpstreamConnection, UpstreamError>) -> Void) {
        if cluster.http2 { return acquireStream(done) }
        while let c = idle.popLast() {
            if c.channel.isActive {
                activeRequests += 1
                done(.success(c))
                return
            }
        }
        if takeConnectionSlot() {
            connect(done)
        } else if SharedCluster.take(shared.pending, below: cluster.limits.maxPendingRequests) {
            waiters.append(done)
        } else {
            done(.failure(.overflow))
        }
    }

    /// The oldest queued request, which leaves the cluster's pending count.
    func nextWaiter() -> ((Result<UpstreamConnection, UpstreamError>) -> Void)? {
        guard !waiters.isEmpty else { return nil }
        shared.pending.wrappingSubtract(1, ordering: .relaxed)
        return waiters.removeFirst()
    }

    /// Opens a connection to the endpoint (HTTP/1.1 or HTTP/2, as `initializer` sets it up), counted as open
    /// (in this pool, the cluster's stats) from now; a failed connect is counted back here.
    func openConnection(_ initializer: @escaping @Sendable (any Channel) throws -> Void) -> EventLoopFuture<any Channel> {
        open += 1
        stats.update(key.cluster) { $0.connectionsOpened += 1; $0.connectionsActive += 1 }
        // mTLS when the cluster says so for this endpoint (auto mTLS: it has a sidecar); the TLS handler goes first.
        let tls = tlsSetting
        let credentials = credentials
        let connected = connector.connect(host: key.host, port: key.port, timeout: TimeAmount(cluster.connectTimeout),
                                          on: loop) { ch in
            try credentials.addClientTLS(tls, to: ch.pipeline.syncOperations)
            try initializer(ch)
        }
        connected.whenFailure { [self] _ in
            connectionGone()
            stats.update(key.cluster) { $0.connectFailures += 1; $0.connectionsActive -= 1 }
        }
        return connected
    }

    func connect(_ done: @escaping (Result<UpstreamConnection, UpstreamError>) -> Void) {
        openConnection { ch in
            try ch.pipeline.syncOperations.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes)
            try ch.pipeline.syncOperations.addHandler(UpstreamHandler())
        }
            .whenComplete { [self] result in
                switch result {
                case let .success(ch):
                    guard let handler = try? ch.pipeline.syncOperations.handler(type: UpstreamHandler.self) else {
                        ch.close(promise: nil)
                        connectionGone()
                        stats.update(key.cluster) { $0.connectionsActive -= 1 }
                        return done(.failure(.connectFailed(ChannelError.ioOnClosedChannel)))
                    }
                    let conn = UpstreamConnection(channel: ch, handler: handler)
                    conn.generation = generation
                    handler.onClose = { [weak self] in self?.closed(conn) }
                    activeRequests += 1
                    done(.success(conn))
                case let .failure(error):
                    done(.failure(.connectFailed(error)))
                    serveWaiter()
                }
            }
    }

    /// Gives a connection back after an exchange; `reusable` when the exchange ended cleanly with keep-alive.
    package func release(_ c: UpstreamConnection, reusable: Bool) {
        requestEnded()
        c.handler.delegate = nil
        if c.isStream {
            if !reusable { c.channel.close(promise: nil) }
            return
        }
        c.served += 1
        let limit = cluster.maxRequestsPerConnection ?? Int.max
        if reusable && !retired && c.generation == generation && c.channel.isActive && c.served < limit {
            if let w = nextWaiter() {
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
        connectionGone()
        stats.update(key.cluster) { $0.connectionsActive -= 1 }
        idle.removeAll { $0 === c }
        serveWaiter()
    }

    func serveWaiter() {
        guard !waiters.isEmpty, takeConnectionSlot(), let w = nextWaiter() else { return }
        connect(w)
    }

    /// The endpoint left the cluster: close idle connections now, busy ones when their exchange ends.
    /// Takes a new cluster config: when it changes whether (or how) this endpoint is reached over mesh TLS, new
    /// requests get new connections; idle ones close now, busy ones after their exchange, an HTTP/2 one after a
    /// grace period for its streams.
    func update(_ config: ClusterConfig, endpoint: EndpointConfig) {
        let before = tlsSetting
        cluster = config
        endpointTLS = endpoint.meshTLS
        guard tlsSetting != before else { return }
        generation += 1
        for c in idle { c.channel.close(promise: nil) }
        idle.removeAll()
        if let old = h2?.channel {
            h2 = nil
            loop.scheduleTask(in: .seconds(10)) { old.close(promise: nil) }
        }
    }

    var tlsSetting: UpstreamMeshTLS? { cluster.meshTLS(marked: endpointTLS) }

    func retire() {
        retired = true
        h2?.channel.close(promise: nil)
        for c in idle { c.channel.close(promise: nil) }
        idle.removeAll()
        while let done = nextWaiter() { done(.failure(.overflow)) }
    }
}

extension UpstreamPool {
    func acquireStream(_ done: @escaping (Result<UpstreamConnection, UpstreamError>) -> Void) {
        // Requests in flight to the cluster across workers, this one included.
        guard shared.requests.load(ordering: .relaxed) <= cluster.limits.maxRequests else { return done(.failure(.overflow)) }
        if let h2, h2.channel.isActive { return openStream(h2.mux, done) }
        h2Waiters.append(done)
        guard h2Waiters.count == 1 else { return }
        shared.connections.wrappingAdd(1, ordering: .relaxed)
        openConnection { ch in
            var stream = NIOHTTP2Handler.StreamConfiguration()
            stream.targetWindowSize = 1 << 20
            _ = try ch.pipeline.syncOperations.configureHTTP2Pipeline(
                mode: .client, connectionConfiguration: .init(), streamConfiguration: stream) { $0.eventLoop.makeSucceededVoidFuture() }
        }
            .whenComplete { [self] result in
                let waiting = h2Waiters
                h2Waiters.removeAll()
                switch result {
                case let .success(ch):
                    do {
                        let mux = try ch.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
                        h2 = (ch, mux)
                        ch.closeFuture.whenComplete { [weak self] _ in
                            guard let self else { return }
                            connectionGone()
                            stats.update(key.cluster) { $0.connectionsActive -= 1 }
                            if let h = h2, h.channel === ch { h2 = nil }
                        }
                        for w in waiting { openStream(mux, w) }
                    } catch {
                        ch.close(promise: nil)
                        for w in waiting { w(.failure(.connectFailed(error))) }
                    }
                case let .failure(error):
                    for w in waiting { w(.failure(.connectFailed(error))) }
                }
            }
    }

    func openStream(_ mux: NIOHTTP2Handler.StreamMultiplexer, _ done: @escaping (Result<UpstreamConnection, UpstreamError>) -> Void) {
        activeRequests += 1
        mux.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
                try stream.pipeline.syncOperations.addHandler(UpstreamHandler())
            }
        }.whenComplete { result in
            switch result {
            case let .success(stream):
                guard let handler = try? stream.pipeline.syncOperations.handler(type: UpstreamHandler.self) else {
                    self.requestEnded()
                    return done(.failure(.connectFailed(ChannelError.ioOnClosedChannel)))
                }
                let c = UpstreamConnection(channel: stream, handler: handler)
                c.isStream = true
                done(.success(c))
            case let .failure(error):
                self.requestEnded()
                done(.failure(.connectFailed(error)))
            }
        }
    }

    /// Takes `c` out of the pool for good, to become a byte tunnel (an upgraded connection, WebSocket): it no
    /// longer counts as this pool's, its HTTP client handlers leave the pipeline, and the caller owns the channel.
    package func detachForTunnel(_ c: UpstreamConnection) throws -> any Channel {
        c.handler.delegate = nil
        c.handler.onClose = nil
        open -= 1
        stats.update(key.cluster) { $0.connectionsActive -= 1 }
        let s = c.channel.pipeline.syncOperations
        s.removeHandler(try s.handler(type: UpstreamHandler.self), promise: nil)
        s.removeHandler(try s.handler(type: HTTPRequestEncoder.self), promise: nil)
        if let validator = try? s.handler(type: NIOHTTPRequestHeadersValidator.self) { s.removeHandler(validator, promise: nil) }
        s.removeHandler(try s.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
        return c.channel
    }
}
