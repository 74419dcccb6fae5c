import NIOHTTP1
import ProxyRouting

/// Header handling shared by both directions: hop-by-hop headers are the connection's own and never cross.
enum HeaderRules {
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

/// Envoy's response flags, sent to the caller in `x-weft-response-flags` so one 503 can be told from another.
enum ResponseFlag: String {
    case noRoute = "NR"
    case noCluster = "NC"
    case noHealthyUpstream = "UH"
    case upstreamConnectFailure = "UF"
    case upstreamTimeout = "UT"
    case upstreamOverflow = "UO"
    case upstreamReset = "UC"
    case faultAbort = "FI"
    case delayInjected = "DI"
    case upstreamRetryLimit = "URX"
    case rateLimited = "RL"

    var explanation: String {
        switch self {
        case .noRoute: return "no route matched"
        case .noCluster: return "the route's cluster is not known"
        case .noHealthyUpstream: return "no healthy upstream"
        case .upstreamConnectFailure: return "upstream connect failure"
        case .upstreamTimeout: return "upstream request timeout"
        case .upstreamOverflow: return "upstream overflow (circuit breaker)"
        case .upstreamReset: return "upstream connection reset before response"
        case .faultAbort: return "fault injected"
        case .delayInjected: return "delay injected"
        case .upstreamRetryLimit: return "upstream retry limit exceeded"
        case .rateLimited: return "local rate limit"
        }
    }
}
