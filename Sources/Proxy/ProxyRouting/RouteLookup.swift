import ProxyConfig

extension RouteTable {
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

/// What routing looks at in a request: its method, path (with query) and authority, and its headers (whatever
/// header type the codec uses, read through `HeaderLookup`; NIO's headers are boxed without allocating).
public struct RequestView: Sendable {
    public var method: String
    /// The path with the query string, as sent (`/a/b?x=1`).
    public var uri: String
    public var authority: String
    public var headers: any HeaderLookup
    public var scheme: String

    public init(method: String, uri: String, authority: String, headers: any HeaderLookup, scheme: String = "http") {
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
            return headers.joinedValues(name)
        }
    }
}

extension ForwardAction {
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

extension RedirectAction {
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
