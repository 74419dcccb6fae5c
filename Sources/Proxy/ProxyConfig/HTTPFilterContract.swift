/// An HTTP filter of weft proxy (Envoy's `http_filters`): it looks at a request before the router and lets it
/// through, answers it, or holds it for a while. A filter is made from its settings when config arrives (never
/// per request), shared by every request and worker, and decides as a pure function of the request, the time and
/// a random source, so each is tested alone with a table of requests. The filters themselves live in
/// ProxyRouting/Filters; this is the contract the config model and the data path share.
public protocol HTTPFilter: Sendable {
    /// Envoy's name of the filter, the key of its settings in `typed_per_filter_config` and `http_filters`.
    static var name: String { get }
    /// The filter for these settings; nil when they ask it to do nothing.
    init?(settings: any HTTPFilterSettings)
    /// Decides on a request's headers. `now` is a monotonic time. A filter may write metadata and header edits into
    /// the request for the filters after it and for the upstream request.
    func decodeHeaders(_ request: inout FilterRequest, now: ContinuousClock.Instant, random: (Int) -> Int) -> FilterVerdict
}

/// A filter's settings, converted from xDS at the edge (listener-wide, or per route).
public protocol HTTPFilterSettings: Sendable {}

/// What a filter sees of a request, and what filters hand on: Envoy's dynamic metadata, and header edits the
/// upstream request gets (applied by the router before its own header edits, as Envoy's filters edit the request
/// headers themselves). One per request, kept across a delay.
public struct FilterRequest {
    public var method: String
    public var headers: any HeaderLookup
    /// The path with the query, after the connection manager's normalisation (`:path`).
    public var uri: String
    /// The request's authority (`:authority`, or Host).
    public var authority: String
    public var scheme: String
    /// The connection the request came in on (addresses, SNI, the mTLS peer).
    public var connection: ConnectionFacts
    public var metadata = DynamicMetadata()
    public private(set) var headerEdits = RequestHeaderEdits()
    /// The worker's counters, caches and log.
    public let worker: WorkerFilterState

    public init(method: String, headers: any HeaderLookup, uri: String = "/", authority: String? = nil, scheme: String = "http",
                connection: ConnectionFacts = .unknown, worker: WorkerFilterState = WorkerFilterState()) {
        self.method = method
        self.headers = headers
        self.uri = uri
        self.authority = authority ?? headers.first(name: "host") ?? ""
        self.scheme = scheme
        self.connection = connection
        self.worker = worker
    }

    public var isGRPC: Bool { headers.first(name: "content-type")?.hasPrefix("application/grpc") ?? false }

    /// The path without query or fragment (what Envoy's path matchers see).
    public var path: Substring {
        guard let end = uri.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) else { return Substring(uri) }
        return uri[..<end]
    }

    /// A header as filters see it (lowercase `name`): the pseudo-headers `:method`, `:authority` (and `host`),
    /// `:path` and `:scheme`, else every value joined with `,`, after the edits earlier filters made.
    public func header(_ name: String) -> String? {
        switch name {
        case ":method": return method
        case ":authority", "host": return authority
        case ":path": return uri
        case ":scheme": return scheme
        default:
            if !headerEdits.isEmpty, let edited = headerEdits.edited(name, original: { headers.joinedValues(name) }) { return edited }
            return headers.joinedValues(name)
        }
    }

    /// Sets a header on the upstream request (replacing its values).
    public mutating func setHeader(_ name: String, _ value: String) { headerEdits.append(.set(name.lowercased(), value)) }
    /// Adds a value to a header of the upstream request.
    public mutating func addHeader(_ name: String, _ value: String) { headerEdits.append(.add(name.lowercased(), value)) }
    /// Removes a header from the upstream request.
    public mutating func removeHeader(_ name: String) { headerEdits.append(.remove(name.lowercased())) }
}

/// A filter's decision.
public enum FilterVerdict: Sendable, Equatable {
    /// On to the next filter (and, after the last, the router).
    case proceed
    /// Answer here; no later filter and no router runs.
    case reply(LocalReply)
    /// Hold the request this long, then go on with the next filter.
    case delay(Duration)
}

/// A complete answer made by the proxy itself.
public struct LocalReply: Sendable, Equatable {
    public var status: Int
    public var flag: ResponseFlag?
    public var body: String
    public var headers: HeaderList

    public init(status: Int, flag: ResponseFlag?, body: String, headers: HeaderList = [:]) {
        self.status = status
        self.flag = flag
        self.body = body
        self.headers = headers
    }
}

/// Envoy's HTTP fault filter, per route: delay and abort, each with a probability in parts per million.
public struct FaultPolicy: HTTPFilterSettings, Equatable {
    public static let filterName = "envoy.filters.http.fault"
    public var delay: Duration?
    public var delayPerMillion: Int
    public var abortStatus: Int?
    public var abortGRPCStatus: Int?
    public var abortPerMillion: Int

    public init(delay: Duration? = nil, delayPerMillion: Int = 0, abortStatus: Int? = nil, abortGRPCStatus: Int? = nil,
                abortPerMillion: Int = 0) {
        self.delay = delay
        self.delayPerMillion = delayPerMillion
        self.abortStatus = abortStatus
        self.abortGRPCStatus = abortGRPCStatus
        self.abortPerMillion = abortPerMillion
    }
}

/// Envoy's local rate limit (`envoy.filters.http.local_ratelimit`): a token bucket of `maxTokens` that refills
/// `tokensPerFill` every `fillInterval`; an empty bucket answers `status` with `responseHeaders`.
public struct LocalRateLimitPolicy: HTTPFilterSettings, Equatable {
    public static let filterName = "envoy.filters.http.local_ratelimit"
    public var maxTokens: Int
    public var tokensPerFill: Int
    public var fillInterval: Duration
    /// The answer when the bucket is empty (429 unless configured).
    public var status: Int
    public var responseHeaders: HeaderEdits

    public init(maxTokens: Int, tokensPerFill: Int, fillInterval: Duration, status: Int = 429,
                responseHeaders: HeaderEdits = HeaderEdits()) {
        self.maxTokens = maxTokens
        self.tokensPerFill = tokensPerFill
        self.fillInterval = fillInterval
        self.status = status
        self.responseHeaders = responseHeaders
    }
}
