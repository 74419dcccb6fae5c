/// An upstream cluster: how to pick among its endpoints and how to talk to them.
public struct ClusterConfig: Sendable, Equatable {
    public enum LBPolicy: Sendable, Equatable { case roundRobin, leastRequest, random, ringHash, maglev }
    public enum Discovery: Sendable, Equatable { case eds, staticEndpoints, strictDNS, logicalDNS, originalDestination }
    public var name: String
    public var discovery: Discovery
    public var lbPolicy: LBPolicy
    public var endpoints: [EndpointConfig]
    public var connectTimeout: Duration
    public var http2: Bool
    public var limits: CircuitLimits
    public var maxRequestsPerConnection: Int?
    /// nil keeps idle upstream connections until the peer closes them.
    public var idleTimeout: Duration?
    /// Passive health checking: endpoints that keep failing leave rotation for a while.
    public var outlier: OutlierConfig?
    /// Below this share of endpoints in rotation (percent), all endpoints are used anyway (Envoy's panic mode).
    public var panicThresholdPercent: Double = 50
    /// Active health checking; endpoints failing it leave rotation until they pass again.
    public var healthCheck: HealthCheckConfig?
    /// Envoy's locality-weighted load balancing: traffic splits between localities by their weights.
    public var localityWeighted = false
    /// Mesh mTLS to the endpoints (Istio's auto mTLS or ISTIO_MUTUAL); nil: plaintext.
    public var meshTLS: UpstreamMeshTLS?
    /// The services this cluster reaches (Istio's cluster metadata), which name the standard metrics' destination.
    public var services: [ServiceRef] = []

    public init(name: String, discovery: Discovery = .staticEndpoints, lbPolicy: LBPolicy = .roundRobin,
                endpoints: [EndpointConfig] = [], connectTimeout: Duration = .seconds(10), http2: Bool = false,
                limits: CircuitLimits = CircuitLimits(), maxRequestsPerConnection: Int? = nil, idleTimeout: Duration? = nil) {
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
    /// The endpoint's workload has a sidecar that takes mesh mTLS (`tlsMode: istio` in its metadata).
    public var meshTLS = false

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
    public var interval: Duration
    public var baseEjectionTime: Duration
    public var maxEjectionTime: Duration
    public var maxEjectionPercent: Int

    public init(consecutive5xx: Int? = 5, enforcing5xx: Int = 100, consecutiveGatewayFailure: Int? = nil,
                enforcingGatewayFailure: Int = 0, interval: Duration = .seconds(10), baseEjectionTime: Duration = .seconds(30),
                maxEjectionTime: Duration = .seconds(300), maxEjectionPercent: Int = 10) {
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

/// Active health checking of a cluster's endpoints (Envoy's cluster `health_checks`, first one).
public struct HealthCheckConfig: Sendable, Equatable {
    public enum Probe: Sendable, Equatable {
        /// GET `path` with `host` as Host; healthy on a status in `expected` (default 200 only).
        case http(host: String, path: String, http2: Bool, expected: [ClosedRange<Int>])
        /// A TCP connect.
        case tcp
        /// grpc.health.v1.Health/Check for `service`; healthy when SERVING.
        case grpc(service: String, authority: String)
    }
    public var probe: Probe
    public var interval: Duration
    public var timeout: Duration
    public var unhealthyThreshold: Int
    public var healthyThreshold: Int

    public init(probe: Probe, interval: Duration, timeout: Duration, unhealthyThreshold: Int, healthyThreshold: Int) {
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
        self.unhealthyThreshold = unhealthyThreshold
        self.healthyThreshold = healthyThreshold
    }
}
