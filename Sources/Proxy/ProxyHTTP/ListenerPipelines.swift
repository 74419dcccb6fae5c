import NIOCore
import NIOHTTP1
import NIOPosix
import ProxyConfig
import ProxyRouting

/// Sets up an accepted connection for its listener's kind, on the worker of the connection's loop.
public enum ListenerPipelines {
    /// `guard` counts the listener's connections: one over its limit is closed as soon as it is active.
    public static func configure(_ channel: any Channel, listener: ListenerConfig, worker: Worker, guard: ListenerGuard) throws {
        let sync = channel.pipeline.syncOperations
        let connections = `guard`.connections
        guard connections.admit(max: listener.maxConnections) else {
            try sync.addHandler(ConnectionRefuser())
            return
        }
        channel.closeFuture.whenComplete { _ in connections.release() }
        switch listener.kind {
        case let .http(routeTable, _):
            try sync.addHandler(ProtocolDetector(worker: worker, routeTable: routeTable, settings: listener.http, guard: `guard`))
        case let .tcp(clusters, _):
            try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
            try sync.addHandler(TCPProxyHandler(worker: worker, clusters: clusters))
        }
    }
}
