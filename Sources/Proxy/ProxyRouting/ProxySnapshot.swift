import NIOHTTP1

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

/// An upstream cluster: how to pick among its endpoints and how to talk to them.
public struct ClusterConfig: Sendable, Equatable {
    public enum LBPolicy: Sendable, Equatable { case roundRobin, leastRequest, random, ringHash, maglev }
    public enum Discovery: Sendable, Equatable { case eds, staticEndpoints, strictDNS, logicalDNS, originalDestination }
    public var name: String
    public var discovery: Discovery
    public var lbPolicy: LBPolicy
    public var endpoints: [EndpointConfig]
    /// Nanoseconds.
    public var connectTimeout: Int64
    public var http2: Bool
    public var limits: CircuitLimits
    public var maxRequestsPerConnection: Int?
    /// Nanoseconds; nil keeps idle upstream connections until the peer closes them.
    public var idleTimeout: Int64?
    /// Passive health checking: endpoints that keep failing leave rotation for a while.
    public var outlier: OutlierConfig?
    /// Below this share of endpoints in rotation (percent), all endpoints are used anyway (Envoy's panic mode).
    public var panicThresholdPercent: Double = 50
    /// Active health checking; endpoints failing it leave rotation until they pass again.
    public var healthCheck: HealthCheckConfig?
    /// Envoy's locality-weighted load balancing: traffic splits between localities by their weights.
    public var localityWeighted = false

    public init(name: String, discovery: Discovery = .staticEndpoints, lbPolicy: LBPolicy = .roundRobin,
                endpoints: [EndpointConfig] = [], connectTimeout: Int64 = 10_000_000_000, http2: Bool = false,
                limits: CircuitLimits = CircuitLimits(), maxRequestsPerConnection: Int? = nil, idleTimeout: Int64? = nil) {
        self.name = name
        self.discovery = discovery
        self.lbPolicy = lbPolicy
        self.endpoints = endpoints
        self.connectTimeout = connectTimeout
        self.http2 = http2
        self.limits = limits
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.idleTimeout = idleTimeout
    }
}

/// Envoy's circuit-breaker thresholds (defaults as Envoy's: 1024 each, 3 retries).
public struct CircuitLimits: Sendable, Equatable {
    public var maxConnections = 1024
    public var maxPendingRequests = 1024
    public var maxRequests = 1024
    public var maxRetries = 3
    /// Envoy's retry budget: retries in flight at most this percent of active requests (nil: use maxRetries).
    public var retryBudgetPercent: Double?
    public var minRetryConcurrency = 3

    public init(maxConnections: Int = 1024, maxPendingRequests: Int = 1024, maxRequests: Int = 1024, maxRetries: Int = 3,
                retryBudgetPercent: Double? = nil, minRetryConcurrency: Int = 3) {
        self.maxConnections = maxConnections
        self.maxPendingRequests = maxPendingRequests
        self.maxRequests = maxRequests
        self.maxRetries = maxRetries
        self.retryBudgetPercent = retryBudgetPercent
        self.minRetryConcurrency = minRetryConcurrency
    }

    /// How many retries may be in flight while `active` requests are: the budget when there is one
    /// (never below the minimum), else the fixed maximum.
    public func retriesAllowed(active: Int) -> Int {
        guard let pct = retryBudgetPercent else { return maxRetries }
        return max(minRetryConcurrency, Int(Double(active) * pct / 100))
    }
}

/// One upstream address.
public struct EndpointConfig: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var weight: Int
    public var locality: String
    public var priority: Int
    public var healthy: Bool
    /// The weight of the endpoint's locality (locality-weighted clusters only).
    public var localityWeight: Int

    public init(host: String, port: Int, weight: Int = 1, locality: String = "", priority: Int = 0, healthy: Bool = true,
                localityWeight: Int = 1) {
        self.host = host
        self.port = port
        self.weight = weight
        self.locality = locality
        self.priority = priority
        self.healthy = healthy
        self.localityWeight = localityWeight
    }
}

/// Envoy's outlier detection, as far as Weft uses it (consecutive errors and time-based ejection).
public struct OutlierConfig: Sendable, Equatable {
    /// Consecutive 5xx (and local connection failures) that eject an endpoint; nil or enforcement 0 disables.
    public var consecutive5xx: Int?
    public var enforcing5xx: Int
    /// Consecutive gateway errors (502, 503, 504, connection failures) that eject an endpoint.
    public var consecutiveGatewayFailure: Int?
    public var enforcingGatewayFailure: Int
    /// Nanoseconds.
    public var interval: Int64
    public var baseEjectionTime: Int64
    public var maxEjectionTime: Int64
    public var maxEjectionPercent: Int

    public init(consecutive5xx: Int? = 5, enforcing5xx: Int = 100, consecutiveGatewayFailure: Int? = nil,
                enforcingGatewayFailure: Int = 0, interval: Int64 = 10_000_000_000, baseEjectionTime: Int64 = 30_000_000_000,
                maxEjectionTime: Int64 = 300_000_000_000, maxEjectionPercent: Int = 10) {
        self.consecutive5xx = consecutive5xx
        self.enforcing5xx = enforcing5xx
        self.consecutiveGatewayFailure = consecutiveGatewayFailure
        self.enforcingGatewayFailure = enforcingGatewayFailure
        self.interval = interval
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionTime = maxEjectionTime
        self.maxEjectionPercent = maxEjectionPercent
    }
}
