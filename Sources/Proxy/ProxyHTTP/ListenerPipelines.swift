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
        if case .tcp = listener.kind { try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true) }
        guard let tls = listener.meshTLS else {
            return try sync.addHandler(handler(listener, worker, `guard`, tls: nil))
        }
        try sync.addHandler(MeshTLSSniffer(tls: tls, credentials: worker.upstreams.credentials, readsServerName: listener.readsServerName) { context, state in
            try context.pipeline.syncOperations.addHandler(handler(listener, worker, `guard`, tls: state), position: .after(context.handler))
        })
    }

    /// The listener's own first handler: protocol detection for HTTP, the TCP proxy for TCP. `tls`: the connection
    /// is TLS (its handshake still to come).
    static func handler(_ listener: ListenerConfig, _ worker: Worker, _ guard: ListenerGuard,
                        tls: DownstreamTLSState?) -> any ChannelHandler {
        switch listener.kind {
        case let .http(routeTable, _):
            ProtocolDetector(worker: worker, routeTable: routeTable, settings: listener.http, guard: `guard`, tls: tls,
                             networkRBAC: listener.networkRBAC, telemetry: listener.telemetry)
        case let .tcp(clusters, _):
            TCPProxyHandler(worker: worker, clusters: clusters, networkRBAC: listener.networkRBAC, tls: tls, telemetry: listener.telemetry)
        }
    }
}
