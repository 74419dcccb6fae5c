import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftCore
import WeftModel

/// Builds the outbound RouteConfiguration: one virtual host per service HTTP port, matched by Host/:authority,
/// holding the VirtualService's routes in order (or a default route to the service).
struct RouteBuilder {
    let mesh: MeshState
    let proxy: ProxyNode

    typealias VirtualHost = Envoy_Config_Route_V3_VirtualHost
    typealias Route = Envoy_Config_Route_V3_Route

    func outboundRouteConfiguration(name: String) -> Envoy_Config_Route_V3_RouteConfiguration {
        var rc = Envoy_Config_Route_V3_RouteConfiguration()
        rc.name = name
        rc.validateClusters = Google_Protobuf_BoolValue(false)
        var used: Set<String> = []
        let peer = TelemetryMetadata.peer(mesh: mesh, proxy: proxy)
        for host in mesh.services.keys.sorted() {
            let service = mesh.services[host]!
            let httpPorts = service.ports.filter { $0.protocol.isHTTP }.sorted { $0.number < $1.number }
            let defaultPort = httpPorts.first { $0.number == 80 }?.number ?? httpPorts.first?.number
            for port in httpPorts {
                let domains = domainNames(service).flatMap { n in
                    port.number == defaultPort ? ["\(n):\(port.number)", n] : ["\(n):\(port.number)"]
                }.filter { used.insert($0).inserted }
                guard !domains.isEmpty else { continue }
                var vh = VirtualHost()
                vh.name = "\(host):\(port.number)"
                vh.domains = domains
                vh.routes = routes(service: service, port: port.number)
                if let limits = mesh.routeRateLimits[host] { RateLimitBuilder.apply(limits, to: &vh.routes) }
                // The caller's metadata goes to mesh services only; a host outside the mesh never sees it.
                if service.location != .MESH_EXTERNAL {
                    TelemetryMetadata.outbound(&vh, peer: peer)
                } else {
                    vh.requestHeadersToRemove.append(PeerMetadata.header)
                }
                rc.virtualHosts.append(vh)
            }
        }
        // The answering sidecar's metadata is removed from every response, wherever it came from.
        rc.responseHeadersToRemove.append(PeerMetadata.header)
        return rc
    }

    /// The names a caller in the proxy's namespace may use for a service.
    func domainNames(_ s: Service) -> [String] {
        var names = [s.host]
        if let short = s.shortName {
            names += ["\(short).\(s.namespace)", "\(short).\(s.namespace).svc"]
            if s.namespace == proxy.namespace { names.append(short) }
        }
        return names
    }

    func routes(service: Service, port: Int) -> [Route] {
        guard let (namespace, vs) = mesh.virtualServices[service.host] else {
            return [defaultRoute(host: service.host, port: port)]
        }
        var out: [Route] = []
        for (index, http) in vs.http.enumerated() {
            let applicable = http.match.filter { m in
                (m.port == nil || m.port == port) && m.sourceLabels.allSatisfy { proxy.labels[$0.key] == $0.value }
                    && (m.sourceNamespace == nil || m.sourceNamespace == proxy.namespace)
                    && (m.gateways.isEmpty || m.gateways.contains("mesh"))
            }
            if !http.match.isEmpty && applicable.isEmpty { continue }
            let template = RouteActionBuilder(mesh: mesh, namespace: namespace, port: port).route(http)
            let matches = applicable.isEmpty ? [nil] : applicable.map(Optional.some)
            for m in matches {
                var r = template
                r.name = http.name ?? "\(service.host):\(port)#\(index)"
                r.match = MatchBuilder.match(m)
                out.append(r)
            }
        }
        return out
    }

    func defaultRoute(host: String, port: Int) -> Route {
        var r = Route()
        r.name = "default"
        var m = Envoy_Config_Route_V3_RouteMatch()
        m.prefix = "/"
        r.match = m
        var a = Envoy_Config_Route_V3_RouteAction()
        a.cluster = ClusterName.outbound(host: host, port: port)
        a.timeout = Proto.seconds(0)
        a.retryPolicy = RouteActionBuilder.defaultRetryPolicy()
        RouteActionBuilder.hashPolicy(mesh: mesh, host: host, port: port, subset: nil).map { a.hashPolicy = [$0] }
        r.route = a
        return r
    }
}

/// Istio match conditions to Envoy's RouteMatch.
enum MatchBuilder {
    typealias HeaderMatcher = Envoy_Config_Route_V3_HeaderMatcher

    static func match(_ m: HTTPMatchRequest?) -> Envoy_Config_Route_V3_RouteMatch {
        var rm = Envoy_Config_Route_V3_RouteMatch()
        guard let m else { rm.prefix = "/"; return rm }
        switch m.uri {
        case let .exact(p)?: rm.path = p
        case let .prefix(p)?: rm.prefix = p
        case let .regex(p)?: rm.safeRegex = Proto.regex(p)
        default: rm.prefix = "/"
        }
        if m.ignoreUriCase { rm.caseSensitive = Google_Protobuf_BoolValue(false) }
        for (name, sm) in m.headers.sorted(by: { $0.key < $1.key }) { rm.headers.append(header(name, sm, invert: false)) }
        for (name, sm) in m.withoutHeaders.sorted(by: { $0.key < $1.key }) { rm.headers.append(header(name, sm, invert: true)) }
        if let sm = m.method { rm.headers.append(header(":method", sm, invert: false)) }
        if let sm = m.authority { rm.headers.append(header(":authority", sm, invert: false)) }
        if let sm = m.scheme { rm.headers.append(header(":scheme", sm, invert: false)) }
        for (name, sm) in m.queryParams.sorted(by: { $0.key < $1.key }) {
            var q = Envoy_Config_Route_V3_QueryParameterMatcher()
            q.name = name
            if let s = stringMatcher(sm) { q.stringMatch = s } else { q.presentMatch = true }
            rm.queryParameters.append(q)
        }
        return rm
    }

    static func header(_ name: String, _ sm: StringMatch, invert: Bool) -> HeaderMatcher {
        var h = HeaderMatcher()
        h.name = name.lowercased()  // HTTP header names are case-insensitive; Istio accepts `X-Requested-With`
        if let s = stringMatcher(sm) { h.stringMatch = s } else { h.presentMatch = true }
        h.invertMatch = invert
        return h
    }

    static func stringMatcher(_ sm: StringMatch) -> Envoy_Type_Matcher_V3_StringMatcher? {
        var s = Envoy_Type_Matcher_V3_StringMatcher()
        switch sm {
        case let .exact(v): s.exact = v
        case let .prefix(v): s.prefix = v
        case let .regex(v): s.safeRegex = Proto.regex(v)
        case .present: return nil
        }
        return s
    }
}
