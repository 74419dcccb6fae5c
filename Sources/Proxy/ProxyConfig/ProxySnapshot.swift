/// Everything a `weft proxy` runs with, swapped whole when xDS changes. A request keeps the snapshot it
/// started with.
public struct ProxySnapshot: Sendable {
    public var listeners: [String: ListenerConfig]
    public var routeTables: [String: RouteTable]
    public var clusters: [String: ClusterConfig]
    /// Version strings of what was applied, by xDS type URL (for /config_dump and ACKs).
    public var versions: [String: String]
    /// Every cluster has its endpoints and every listener its routes (nothing is still being fetched).
    public var warm = true

    public init(listeners: [String: ListenerConfig] = [:], routeTables: [String: RouteTable] = [:],
                clusters: [String: ClusterConfig] = [:], versions: [String: String] = [:]) {
        self.listeners = listeners
        self.routeTables = routeTables
        self.clusters = clusters
        self.versions = versions
    }
}

/// A listening socket and what runs on it.
public struct ListenerConfig: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// HTTP connection manager with a route table by name (from RDS) or inline.
        case http(routeTable: String, statPrefix: String)
        /// TCP proxy to weighted clusters.
        case tcp(clusters: [WeightedCluster], statPrefix: String)
    }
    public var name: String
    public var host: String
    public var port: Int
    public var kind: Kind

    public init(name: String, host: String, port: Int, kind: Kind) {
        self.name = name
        self.host = host
        self.port = port
        self.kind = kind
    }
}
