import NIOHTTP1
import ProxyConfig
import ProxyRouting

/// NIO's headers, as routing and filters read them and as a route's header edits change them.
extension HTTPHeaders: HeaderLookup, EditableHeaders {
    /// Every value of `name` joined with commas; a single value is returned as it is (no copy, no array), which
    /// is what authorization's header rules read on every request.
    public func joinedValues(_ name: String) -> String? {
        var joined: String?
        for (n, v) in self where Self.sameName(n, name) {
            if joined == nil { joined = v } else { joined! += "," + v }
        }
        return joined
    }

    /// ASCII case-insensitive comparison of header names.
    static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8) { x, y in
            x == y || (x | 0x20 == y | 0x20 && (x | 0x20) &- 0x61 < 26)
        }
    }
}

/// Header handling shared by both directions: hop-by-hop headers are the connection's own and never cross.
enum HeaderRules {
    /// The request's URI and headers in bytes, as Envoy counts them against `max_request_headers_kb`.
    static func size(_ head: HTTPRequestHead) -> Int {
        var n = head.uri.utf8.count
        for (name, value) in head.headers { n += name.utf8.count + value.utf8.count }
        return n
    }

    static let hopByHop = ["connection", "keep-alive", "proxy-connection", "upgrade", "proxy-authenticate", "proxy-authorization"]

    /// Removes hop-by-hop headers. `te: trailers` survives (gRPC needs it); an upgrade (WebSocket) keeps
    /// `connection: upgrade` and `upgrade` when `keepUpgrade` is set.
    static func stripHopByHop(_ h: inout HTTPHeaders, keepUpgrade: Bool = false) {
        let upgrade = h.first(name: "upgrade")
        for v in h["connection"] {
            for name in v.split(separator: ",") {
                let n = name.trimmingCharacters(in: .whitespaces).lowercased()
                if n != "upgrade" && n != "te" { h.remove(name: n) }
            }
        }
        for name in hopByHop { h.remove(name: name) }
        if h["te"].contains(where: { $0.lowercased() != "trailers" }) { h.remove(name: "te") }
        if keepUpgrade, let upgrade {
            h.add(name: "connection", value: "upgrade")
            h.add(name: "upgrade", value: upgrade)
        }
    }

    /// Why an HTTP/1.x request's Host is unacceptable (RFC 9112 3.2: 400 for none on HTTP/1.1 and for several).
    static func hostProblem(_ head: HTTPRequestHead) -> String? {
        var hosts = 0  // counted without building the values array (this runs for every request)
        for (name, _) in head.headers where name.utf8.count == 4 && name.lowercased() == "host" { hosts += 1 }
        if hosts > 1 { return "more than one Host header" }
        let absolute = head.uri.hasPrefix("http://") || head.uri.hasPrefix("https://")
        if hosts == 0 && head.version == .http1_1 && !absolute { return "missing Host header" }
        return nil
    }

    /// The authority and origin-form URI of a request, accepting absolute-form (`GET http://host:port/path`),
    /// as an app sends it to an HTTP proxy.
    static func target(_ head: HTTPRequestHead) -> (authority: String, uri: String) {
        let uri = head.uri
        if uri.hasPrefix("http://") || uri.hasPrefix("https://") {
            let rest = uri.drop(while: { $0 != "/" }).dropFirst(2)
            let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = String(rest[..<slash])
            var path = String(rest[slash...])
            if path.isEmpty || path.first == "?" { path = "/" + path }
            return (authority, path)
        }
        return (head.headers.first(name: "host") ?? "", uri)
    }
}
