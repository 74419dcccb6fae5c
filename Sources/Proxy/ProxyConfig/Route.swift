/// One route: a match and what to do with a matching request.
public struct Route: Sendable {
    public var name: String
    public var match: RouteMatch
    public var action: RouteAction
    public var requestHeaders: HeaderEdits
    public var responseHeaders: HeaderEdits
    /// The route's filter settings (Envoy's `typed_per_filter_config`), by filter name.
    public var filterSettings: [String: any HTTPFilterSettings]
    /// The HTTP filter chain that runs for this route before the router: the listener's `http_filters` in their
    /// order, each with the route's settings or else the listener's. Compiled when config arrives (ProxyRouting's
    /// `FilterChains`), never per request; empty until then.
    public var filters: [any HTTPFilter] = []

    public init(name: String = "", match: RouteMatch, action: RouteAction, requestHeaders: HeaderEdits = HeaderEdits(),
                responseHeaders: HeaderEdits = HeaderEdits(), filterSettings: [String: any HTTPFilterSettings] = [:]) {
        self.name = name
        self.match = match
        self.action = action
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
        self.filterSettings = filterSettings
    }

    /// Fault injection configured for this route (the fault filter's settings).
    public var fault: FaultPolicy? { filterSettings[FaultPolicy.filterName] as? FaultPolicy }
}

public enum RouteAction: Sendable {
    case forward(ForwardAction)
    case redirect(RedirectAction)
    case direct(status: Int, body: String)
}

/// Send the request upstream: to one cluster or to weighted clusters, with the route's policies.
public struct ForwardAction: Sendable {
    public var clusters: [WeightedCluster]
    /// Running sums of the weights, compiled once for the weighted choice.
    package let cumulative: [Int]
    public var prefixRewrite: String?
    public var regexRewrite: (pattern: CompiledRegex, substitution: String)?
    public var hostRewrite: String?
    /// 0 or nil means no timeout.
    public var timeout: Duration?
    public var retry: RetryPolicy?
    public var mirrors: [MirrorPolicy]
    public var hashPolicies: [HashPolicy]

    public init(clusters: [WeightedCluster], prefixRewrite: String? = nil, regexRewrite: (CompiledRegex, String)? = nil,
                hostRewrite: String? = nil, timeout: Duration? = nil, retry: RetryPolicy? = nil, mirrors: [MirrorPolicy] = [],
                hashPolicies: [HashPolicy] = []) {
        self.clusters = clusters
        var sum = 0
        self.cumulative = clusters.map { sum += max(0, $0.weight); return sum }
        self.prefixRewrite = prefixRewrite
        self.regexRewrite = regexRewrite
        self.hostRewrite = hostRewrite
        self.timeout = timeout
        self.retry = retry
        self.mirrors = mirrors
        self.hashPolicies = hashPolicies
    }

    public var totalWeight: Int { cumulative.last ?? 0 }
}

public struct WeightedCluster: Sendable, Equatable {
    public var name: String
    public var weight: Int
    public var requestHeaders: HeaderEdits
    public var responseHeaders: HeaderEdits

    public init(name: String, weight: Int = 1, requestHeaders: HeaderEdits = HeaderEdits(), responseHeaders: HeaderEdits = HeaderEdits()) {
        self.name = name
        self.weight = weight
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
    }
}

public struct RedirectAction: Sendable {
    public var scheme: String?
    public var host: String?
    public var port: Int?
    public var path: String?
    public var prefixRewrite: String?
    public var status: Int
    public var stripQuery: Bool

    public init(scheme: String? = nil, host: String? = nil, port: Int? = nil, path: String? = nil, prefixRewrite: String? = nil,
                status: Int = 301, stripQuery: Bool = false) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.prefixRewrite = prefixRewrite
        self.status = status
        self.stripQuery = stripQuery
    }
}

public struct RetryPolicy: Sendable, Equatable {
    public var attempts: Int
    public var on5xx: Bool
    public var onGatewayError: Bool
    public var onConnectFailure: Bool
    public var onReset: Bool
    public var retriableStatusCodes: Set<Int>
    /// nil means the route timeout applies to each try.
    public var perTryTimeout: Duration?
    public var baseInterval: Duration
    public var maxInterval: Duration

    public init(attempts: Int, on5xx: Bool = false, onGatewayError: Bool = false, onConnectFailure: Bool = false, onReset: Bool = false,
                retriableStatusCodes: Set<Int> = [], perTryTimeout: Duration? = nil, baseInterval: Duration = .milliseconds(25), maxInterval: Duration = .milliseconds(250)) {
        self.attempts = attempts
        self.on5xx = on5xx
        self.onGatewayError = onGatewayError
        self.onConnectFailure = onConnectFailure
        self.onReset = onReset
        self.retriableStatusCodes = retriableStatusCodes
        self.perTryTimeout = perTryTimeout
        self.baseInterval = baseInterval
        self.maxInterval = maxInterval
    }

    /// Whether an upstream answer with `status` may be retried.
    public func retriable(status: Int) -> Bool {
        (on5xx && status >= 500) || (onGatewayError && (502...504).contains(status)) || retriableStatusCodes.contains(status)
    }
}

public struct MirrorPolicy: Sendable, Equatable {
    public var cluster: String
    /// Parts per million of requests mirrored.
    public var fractionPerMillion: Int

    public init(cluster: String, fractionPerMillion: Int = 1_000_000) {
        self.cluster = cluster
        self.fractionPerMillion = fractionPerMillion
    }
}

public enum HashPolicy: Sendable, Equatable {
    case header(String)
    /// With a TTL, a request without the cookie gets one generated (and set on the response), as Envoy does.
    case cookie(name: String, ttl: Duration? = nil, path: String? = nil)
    case sourceIP
    case queryParameter(String)
}
