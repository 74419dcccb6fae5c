/// A compiled route configuration: virtual hosts looked up by the request's authority.
public struct RouteTable: Sendable {
    public var name: String
    public var virtualHosts: [VirtualHost]
    /// Listener-wide filter settings of the listener that owns this (inline) table, by filter name (a local rate
    /// limit for every request of an inbound listener); routes' own settings take precedence, as in Envoy.
    public var filterSettings: [String: any HTTPFilterSettings] = [:]
    /// The order of the HTTP filters (the names in the listener's `http_filters`, router excluded); nil until the
    /// table is compiled for a listener.
    public var filterOrder: [String]?
    /// The listener-wide chain, for requests no route matches (compiled with the routes' chains).
    public var filters: [any HTTPFilter] = []
    /// Exact domains to virtual host index, compiled once.
    package var exact: [String: Int] = [:]
    /// `*.suffix` and `prefix*` domains, longest first, and the `*` catch-all.
    package var suffixes: [(String, Int)] = []
    package var prefixes: [(String, Int)] = []
    package var catchAll: Int?

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

