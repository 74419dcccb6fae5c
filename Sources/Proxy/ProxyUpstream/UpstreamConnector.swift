import NIOCore
import NIOPosix

/// Opens the connections of a worker's upstream pools. The proxy uses TCP; tests pass one that hands out
/// NIO's embedded channels, so a whole request (caller, filters, router, pool, upstream) runs without sockets.
public protocol UpstreamConnector: Sendable {
    /// A connection to `host:port` on `loop`, with `initializer` run on its pipeline before it is handed back.
    func connect(host: String, port: Int, timeout: TimeAmount, on loop: any EventLoop,
                 initializer: @escaping @Sendable (any Channel) throws -> Void) -> EventLoopFuture<any Channel>
}

/// TCP connections with TCP_NODELAY, as the proxy makes them.
public struct TCPConnector: UpstreamConnector {
    public init() {}

    public func connect(host: String, port: Int, timeout: TimeAmount, on loop: any EventLoop,
                        initializer: @escaping @Sendable (any Channel) throws -> Void) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try initializer(ch) } }
            .connect(host: host, port: port)
    }
}
