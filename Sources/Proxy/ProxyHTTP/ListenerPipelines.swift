import NIOCore
import NIOHTTP1
import NIOPosix
import ProxyConfig
import ProxyRouting

/// Sets up an accepted connection for its listener's kind, on the worker of the connection's loop.
public enum ListenerPipelines {
    public static func configure(_ channel: any Channel, listener: ListenerConfig, worker: Worker) throws {
        let sync = channel.pipeline.syncOperations
        switch listener.kind {
        case let .http(routeTable, _):
            try sync.addHandler(ProtocolDetector(worker: worker, routeTable: routeTable, settings: listener.http))
        case let .tcp(clusters, _):
            try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
            try sync.addHandler(TCPProxyHandler(worker: worker, clusters: clusters))
        }
    }
}
