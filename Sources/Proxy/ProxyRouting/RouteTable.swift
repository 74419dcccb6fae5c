import NIOHTTP1

/// A compiled route configuration: virtual hosts looked up by the request's authority.
public struct RouteTable: Sendable {
    public var name: String
    public var virtualHosts: [VirtualHost]
    /// Listener-wide filter settings of the listener that owns this (inline) table, by filter name (a local rate
    /// limit for every request of an inbound listener).
    public var filterSettings: [String: any HTTPFilterSettings] = [:] {
        didSet { filters = HTTPFilterRegistry.chain(filterSettings) }
    }
    /// Listener-wide filters, compiled from `filterSettings`: they run for every request, before routing.
    public private(set) var filters: [any HTTPFilter] = []
    /// Exact domains to virtual host index, compiled once.
    var exact: [String: Int] = [:]
    /// `*.suffix` and `prefix*` domains, longest first, and the `*` catch-all.
    var suffixes: [(String, Int)] = []
    var prefixes: [(String, Int)] = []
    var catchAll: Int?

    public init(name: String, virtualHosts: [VirtualHost]) {
        self.name = name
        self.virtualHosts = virtualHosts
        for (i, vh) in virtualHosts.enumerated() {
            for d in vh.domains.map({ $0.lowercased() }) {
                if d == "*" {
                    if catchAll == nil { catchAll = i }
                } else if d.hasPrefix("*") {
                    suffixes.append((String(d.dropFirst()), i))
                } else if d.hasSuffix("*") {
                    prefixes.append((String(d.dropLast()), i))
                } else if exact[d] == nil {
                    exact[d] = i
                }
            }
        }
        suffixes.sort { $0.0.count > $1.0.count }
        prefixes.sort { $0.0.count > $1.0.count }
    }

    /// Envoy's order: exact, longest suffix wildcard, longest prefix wildcard, then `*`.
    public func virtualHost(authority: String) -> VirtualHost? {
        let host = authority.lowercased()
        if let i = exact[host] { return virtualHosts[i] }
        if let (_, i) = suffixes.first(where: { host.hasSuffix($0.0) && host.count > $0.0.count }) { return virtualHosts[i] }
        if let (_, i) = prefixes.first(where: { host.hasPrefix($0.0) && host.count > $0.0.count }) { return virtualHosts[i] }
        return catchAll.map { virtualHosts[$0] }
    }

    /// The first route of the matching virtual host whose match accepts the request.
    public func route(for request: RequestView) -> (VirtualHost, Route)? {
        guard let vh = virtualHost(authority: request.authority) else { return nil }
        guard let r = vh.routes.first(where: { $0.match.matches(request) }) else { return nil }
        return (vh, r)
    }
}

public struct VirtualHost: Sendable {
    public var name: String
    public var domains: [String]
    public var routes: [Route]
    public var requestHeaders: HeaderEdits
    public var responseHeaders: HeaderEdits

    public init(name: String, domains: [String], routes: [Route], requestHeaders: HeaderEdits = HeaderEdits(),
                responseHeaders: HeaderEdits = HeaderEdits()) {
        self.name = name
        self.domains = domains
        self.routes = routes
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
    }
}

/// What routing looks at in a request: its method, path (with query) and authority, and its headers.
public struct RequestView {
    public var method: String
    /// The path with the query string, as sent (`/a/b?x=1`).
    public var uri: String
    public var authority: String
    public var headers: HTTPHeaders
    public var scheme: String

    public init(method: String, uri: String, authority: String, headers: HTTPHeaders, scheme: String = "http") {
        self.method = method
        self.uri = uri
        self.authority = authority
        self.headers = headers
        self.scheme = scheme
    }

    public var path: Substring {
        if let q = uri.firstIndex(of: "?") { return uri[..<q] }
        return Substring(uri)
    }

    public var query: Substring? {
        guard let q = uri.firstIndex(of: "?") else { return nil }
        return uri[uri.index(after: q)...]
    }

    /// Reads a header, with Envoy's pseudo-headers `:method`, `:authority`, `:path` and `:scheme`.
    public func header(_ name: String) -> String? {
        switch name {
        case ":method": return method
        case ":authority", "host": return authority
        case ":path": return uri
        case ":scheme": return scheme
        default:
            let values = headers[name]
            return values.isEmpty ? nil : values.joined(separator: ",")
        }
    }
}
