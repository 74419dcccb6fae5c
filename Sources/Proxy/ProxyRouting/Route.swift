import Foundation
import NIOHTTP1

/// One route: a match and what to do with a matching request.
public struct Route: Sendable {
    public var name: String
    public var match: RouteMatch
    public var action: RouteAction
    public var requestHeaders: HeaderEdits
    public var responseHeaders: HeaderEdits
    /// The route's filter settings (Envoy's `typed_per_filter_config`), by filter name.
    public let filterSettings: [String: any HTTPFilterSettings]
    /// The HTTP filters that run for this route, compiled from `filterSettings` in the registry's order.
    public let filters: [any HTTPFilter]

    public init(name: String = "", match: RouteMatch, action: RouteAction, requestHeaders: HeaderEdits = HeaderEdits(),
                responseHeaders: HeaderEdits = HeaderEdits(), filterSettings: [String: any HTTPFilterSettings] = [:]) {
        self.name = name
        self.match = match
        self.action = action
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
        self.filterSettings = filterSettings
        filters = HTTPFilterRegistry.chain(filterSettings)
    }

    /// Fault injection configured for this route (the fault filter's settings).
    public var fault: FaultPolicy? { filterSettings[FaultFilter.name] as? FaultPolicy }
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
    let cumulative: [Int]
    public var prefixRewrite: String?
    public var regexRewrite: (pattern: CompiledRegex, substitution: String)?
    public var hostRewrite: String?
    /// Nanoseconds; 0 or nil means no timeout.
    public var timeout: Int64?
    public var retry: RetryPolicy?
    public var mirrors: [MirrorPolicy]
    public var hashPolicies: [HashPolicy]

    public init(clusters: [WeightedCluster], prefixRewrite: String? = nil, regexRewrite: (CompiledRegex, String)? = nil,
                hostRewrite: String? = nil, timeout: Int64? = nil, retry: RetryPolicy? = nil, mirrors: [MirrorPolicy] = [],
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

    /// Picks a cluster; `random` is a number in `0..<totalWeight` (injected, so tests choose it).
    public func pick(random: Int) -> WeightedCluster? {
        guard !clusters.isEmpty else { return nil }
        if clusters.count == 1 { return clusters[0] }
        let r = random % max(1, totalWeight)
        for (i, c) in cumulative.enumerated() where r < c { return clusters[i] }
        return clusters.last
    }

    /// The path sent upstream after rewrites; `matchedPrefix` is the route's prefix (or whole path) match.
    public func rewrittenURI(_ uri: String, matchedPrefix: String?) -> String {
        if let prefixRewrite, let p = matchedPrefix, uri.hasPrefix(p) {
            return prefixRewrite + uri.dropFirst(p.count)
        }
        if let (rx, sub) = regexRewrite {
            let q = uri.firstIndex(of: "?")
            let path = String(q.map { uri[..<$0] } ?? Substring(uri))
            return rx.replace(path, with: sub) + (q.map { String(uri[$0...]) } ?? "")
        }
        return uri
    }
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

    /// The Location header for a request, as Envoy builds it.
    public func location(for r: RequestView, matchedPrefix: String?) -> String {
        var hostPart = host ?? r.authority
        if let port {
            if let colon = hostPart.lastIndex(of: ":"), !hostPart.hasSuffix("]") { hostPart = String(hostPart[..<colon]) }
            hostPart += ":\(port)"
        }
        var path = String(r.path)
        if let p = self.path { path = p } else if let pr = prefixRewrite, let m = matchedPrefix, path.hasPrefix(m) {
            path = pr + path.dropFirst(m.count)
        }
        let query = (stripQuery || self.path?.contains("?") == true) ? "" : (r.query.map { "?" + $0 } ?? "")
        return "\(scheme ?? r.scheme)://\(hostPart)\(path)\(query)"
    }
}

public struct RetryPolicy: Sendable, Equatable {
    public var attempts: Int
    public var on5xx: Bool
    public var onGatewayError: Bool
    public var onConnectFailure: Bool
    public var onReset: Bool
    public var retriableStatusCodes: Set<Int>
    /// Nanoseconds; nil means the route timeout applies to each try.
    public var perTryTimeout: Int64?
    public var baseInterval: Int64
    public var maxInterval: Int64

    public init(attempts: Int, on5xx: Bool = false, onGatewayError: Bool = false, onConnectFailure: Bool = false, onReset: Bool = false,
                retriableStatusCodes: Set<Int> = [], perTryTimeout: Int64? = nil, baseInterval: Int64 = 25_000_000, maxInterval: Int64 = 250_000_000) {
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
    case cookie(name: String, ttl: Int64? = nil, path: String? = nil)
    case sourceIP
    case queryParameter(String)
}

/// Envoy's HTTP fault filter, per route: delay and abort, each with a probability in parts per million.
public struct FaultPolicy: Sendable, Equatable {
    public var delayNanos: Int64?
    public var delayPerMillion: Int
    public var abortStatus: Int?
    public var abortGRPCStatus: Int?
    public var abortPerMillion: Int

    public init(delayNanos: Int64? = nil, delayPerMillion: Int = 0, abortStatus: Int? = nil, abortGRPCStatus: Int? = nil, abortPerMillion: Int = 0) {
        self.delayNanos = delayNanos
        self.delayPerMillion = delayPerMillion
        self.abortStatus = abortStatus
        self.abortGRPCStatus = abortGRPCStatus
        self.abortPerMillion = abortPerMillion
    }
}

/// Header edits: set replaces, append adds, remove deletes (lower-case names).
public struct HeaderEdits: Sendable, Equatable {
    public var `set`: [(String, String)]
    public var append: [(String, String)]
    public var remove: [String]

    public init(set: [(String, String)] = [], append: [(String, String)] = [], remove: [String] = []) {
        self.set = set
        self.append = append
        self.remove = remove
    }

    public var isEmpty: Bool { self.set.isEmpty && append.isEmpty && remove.isEmpty }

    public func apply(to headers: inout HTTPHeaders) {
        for name in remove { headers.remove(name: name) }
        for (k, v) in self.set { headers.replaceOrAdd(name: k, value: v) }
        for (k, v) in append { headers.add(name: k, value: v) }
    }

    public static func == (a: HeaderEdits, b: HeaderEdits) -> Bool {
        a.set.map { $0.0 + "\u{0}" + $0.1 } == b.set.map { $0.0 + "\u{0}" + $0.1 }
            && a.append.map { $0.0 + "\u{0}" + $0.1 } == b.append.map { $0.0 + "\u{0}" + $0.1 } && a.remove == b.remove
    }
}
