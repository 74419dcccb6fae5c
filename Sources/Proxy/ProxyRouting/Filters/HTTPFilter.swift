import NIOHTTP1

/// An HTTP filter of weft proxy (Envoy's `http_filters`): it looks at a request before the router and lets it
/// through, answers it, or holds it for a while. Filters are compiled from their settings when a snapshot is
/// converted (never per request), shared by every request and worker, and decide as pure functions of the
/// request, the time and a random source, so each is tested alone with a table of requests.
///
/// A new filter is one file with its type and one line in `HTTPFilterRegistry.ordered` (plus, on the xDS side,
/// the conversion of its typed config in XDSClient).
public protocol HTTPFilter: Sendable {
    /// Envoy's name of the filter, the key of its settings in `typed_per_filter_config` and `http_filters`.
    static var name: String { get }
    /// The filter for these settings; nil when they ask it to do nothing.
    init?(settings: any HTTPFilterSettings)
    /// Decides on a request's headers.
    func decodeHeaders(_ request: FilterRequest, now: Int64, random: (Int) -> Int) -> FilterVerdict
}

/// A filter's settings, converted from xDS at the edge (listener-wide, or per route).
public protocol HTTPFilterSettings: Sendable {}

/// What a filter sees of a request.
public struct FilterRequest {
    public var method: String
    public var headers: HTTPHeaders

    public init(method: String, headers: HTTPHeaders) {
        self.method = method
        self.headers = headers
    }

    public var isGRPC: Bool { headers.first(name: "content-type")?.hasPrefix("application/grpc") ?? false }
}

/// A filter's decision.
public enum FilterVerdict: Sendable, Equatable {
    /// On to the next filter (and, after the last, the router).
    case proceed
    /// Answer here; no later filter and no router runs.
    case reply(LocalReply)
    /// Hold the request this long, then go on with the next filter.
    case delay(nanoseconds: Int64)
}

/// A complete answer made by the proxy itself.
public struct LocalReply: Sendable, Equatable {
    public var status: Int
    public var flag: ResponseFlag?
    public var body: String
    public var headers: HTTPHeaders

    public init(status: Int, flag: ResponseFlag?, body: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.flag = flag
        self.body = body
        self.headers = headers
    }
}

/// The filters weft proxy runs, in the order weft control writes `http_filters` (Envoy's order: local rate limit,
/// fault, then room for CORS, JWT authentication, RBAC and telemetry); the router runs after the last.
public enum HTTPFilterRegistry {
    public static let ordered: [any HTTPFilter.Type] = [
        LocalRateLimitFilter.self,
        FaultFilter.self,
    ]

    /// Compiles settings (by filter name) into a chain in the registry's order.
    public static func chain(_ settings: [String: any HTTPFilterSettings]) -> [any HTTPFilter] {
        guard !settings.isEmpty else { return [] }
        return ordered.compactMap { type in settings[type.name].flatMap { type.init(settings: $0) } }
    }

    /// Whether weft proxy runs a filter of this name.
    public static func knows(_ name: String) -> Bool { ordered.contains { $0.name == name } }
}
