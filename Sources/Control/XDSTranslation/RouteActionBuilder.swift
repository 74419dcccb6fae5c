import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftModel

/// Translates one Istio HTTPRoute's action (route, redirect, direct response) and its policies.
struct RouteActionBuilder {
    let mesh: MeshState
    /// The namespace the VirtualService was written in, for resolving short host names.
    let namespace: String
    /// The service port this virtual host serves.
    let port: Int

    typealias Route = Envoy_Config_Route_V3_Route
    typealias Action = Envoy_Config_Route_V3_RouteAction

    func route(_ http: HTTPRoute) -> Route {
        var r = Route()
        if let redirect = http.redirect {
            r.redirect = Self.redirect(redirect)
        } else if let d = http.directResponse {
            var dr = Envoy_Config_Route_V3_DirectResponseAction()
            dr.status = UInt32(d.status)
            if let body = d.body {
                var ds = Envoy_Config_Core_V3_DataSource()
                if let text = String(validating: body, as: UTF8.self) { ds.inlineString = text } else { ds.inlineBytes = Data(body) }
                dr.body = ds
            }
            r.directResponse = dr
        } else {
            r.route = action(http, route: &r)
        }
        if let h = http.headers {
            r.requestHeadersToAdd = Proto.headerOptions(h.request.set, overwrite: true) + Proto.headerOptions(h.request.add, overwrite: false)
            r.requestHeadersToRemove = h.request.remove
            r.responseHeadersToAdd = Proto.headerOptions(h.response.set, overwrite: true) + Proto.headerOptions(h.response.add, overwrite: false)
            r.responseHeadersToRemove = h.response.remove
        }
        if let f = http.fault { r.typedPerFilterConfig[FilterName.fault] = Proto.any(Self.fault(f)) }
        if let c = http.corsPolicy { r.typedPerFilterConfig[FilterName.cors] = Proto.any(Self.cors(c)) }
        return r
    }

    /// The cluster a destination names: its resolved host, port and subset.
    func target(_ d: Destination) -> (host: String, port: Int, cluster: String) {
        let host = HostName.resolve(d.host, namespace: namespace, declared: mesh.declaredHosts)
            ?? HostName.qualify(d.host, namespace: namespace)
        let ports = mesh.services[host]?.ports ?? []
        let p = d.port ?? (ports.count == 1 ? ports[0].number : (ports.contains { $0.number == port } ? port : ports.first?.number ?? port))
        return (host, p, ClusterName.outbound(host: host, port: p, subset: d.subset))
    }

    func action(_ http: HTTPRoute, route r: inout Route) -> Action {
        var a = Action()
        if http.route.count == 1 {
            let d = http.route[0]
            let t = target(d.destination)
            a.cluster = t.cluster
            if let h = d.headers {
                r.requestHeadersToAdd += Proto.headerOptions(h.request.set, overwrite: true) + Proto.headerOptions(h.request.add, overwrite: false)
                r.requestHeadersToRemove += h.request.remove
                r.responseHeadersToAdd += Proto.headerOptions(h.response.set, overwrite: true) + Proto.headerOptions(h.response.add, overwrite: false)
                r.responseHeadersToRemove += h.response.remove
            }
            Self.hashPolicy(mesh: mesh, host: t.host, port: t.port, subset: d.destination.subset).map { a.hashPolicy = [$0] }
        } else {
            var wc = Envoy_Config_Route_V3_WeightedCluster()
            wc.clusters = http.route.map { d in
                var cw = Envoy_Config_Route_V3_WeightedCluster.ClusterWeight()
                cw.name = target(d.destination).cluster
                cw.weight = Proto.u32(d.weight ?? 0)
                if let h = d.headers {
                    cw.requestHeadersToAdd = Proto.headerOptions(h.request.set, overwrite: true) + Proto.headerOptions(h.request.add, overwrite: false)
                    cw.requestHeadersToRemove = h.request.remove
                    cw.responseHeadersToAdd = Proto.headerOptions(h.response.set, overwrite: true) + Proto.headerOptions(h.response.add, overwrite: false)
                    cw.responseHeadersToRemove = h.response.remove
                }
                return cw
            }
            a.weightedClusters = wc
        }
        a.timeout = Proto.duration(nanos: http.timeout ?? 0)
        a.retryPolicy = http.retries.map(Self.retryPolicy) ?? Self.defaultRetryPolicy()
        if let rw = http.rewrite {
            if let uri = rw.uri { a.prefixRewrite = uri }
            if let m = rw.uriRegexMatch {
                var rs = Envoy_Type_Matcher_V3_RegexMatchAndSubstitute()
                rs.pattern = Proto.regex(m)
                rs.substitution = rw.uriRegexRewrite ?? ""
                a.regexRewrite = rs
            }
            if let authority = rw.authority { a.hostRewriteLiteral = authority }
        }
        // A mirror at 0% sends nothing, so Istio leaves it out.
        a.requestMirrorPolicies = http.allMirrors.filter { $0.percentage != 0 }.map { m in
            var mp = Action.RequestMirrorPolicy()
            mp.cluster = target(m.destination).cluster
            if let pct = m.percentage { mp.runtimeFraction = Proto.runtimeFraction(pct) }
            return mp
        }
        var ws = Action.UpgradeConfig()
        ws.upgradeType = "websocket"
        a.upgradeConfigs = [ws]
        return a
    }

    /// Istio's default when a route names no retries: two attempts on connection-level failures.
    static func defaultRetryPolicy() -> Envoy_Config_Route_V3_RetryPolicy {
        var p = Envoy_Config_Route_V3_RetryPolicy()
        p.retryOn = "connect-failure,refused-stream,unavailable,cancelled"
        p.numRetries = Proto.u32(2)
        return p
    }

    static func retryPolicy(_ r: HTTPRetry) -> Envoy_Config_Route_V3_RetryPolicy {
        var p = Envoy_Config_Route_V3_RetryPolicy()
        p.numRetries = Proto.u32(r.attempts)
        var conditions: [String] = []
        for part in (r.retryOn ?? "connect-failure,refused-stream,unavailable,cancelled,5xx").split(separator: ",") {
            let s = part.trimmingCharacters(in: .whitespaces)
            if let code = UInt32(s) { p.retriableStatusCodes.append(code) } else { conditions.append(s) }
        }
        if !p.retriableStatusCodes.isEmpty && !conditions.contains("retriable-status-codes") { conditions.append("retriable-status-codes") }
        p.retryOn = conditions.joined(separator: ",")
        if let t = r.perTryTimeout { p.perTryTimeout = Proto.duration(nanos: t) }
        return p
    }

    static func redirect(_ r: HTTPRedirect) -> Envoy_Config_Route_V3_RedirectAction {
        var a = Envoy_Config_Route_V3_RedirectAction()
        if let uri = r.uri { a.pathRedirect = uri }
        if let prefix = r.prefixRewrite { a.prefixRewrite = prefix }
        if let authority = r.authority { a.hostRedirect = authority }
        if let port = r.port { a.portRedirect = UInt32(port) }
        if let scheme = r.scheme { a.schemeRedirect = scheme }
        switch r.redirectCode ?? 301 {
        case 302: a.responseCode = .found
        case 303: a.responseCode = .seeOther
        case 307: a.responseCode = .temporaryRedirect
        case 308: a.responseCode = .permanentRedirect
        default: a.responseCode = .movedPermanently
        }
        return a
    }

    static func fault(_ f: HTTPFault) -> Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault {
        var out = Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault()
        if let d = f.delay {
            var fd = Envoy_Extensions_Filters_Common_Fault_V3_FaultDelay()
            fd.fixedDelay = Proto.duration(nanos: d.fixedDelay)
            fd.percentage = Proto.fraction(d.percentage)
            out.delay = fd
        }
        if let a = f.abort {
            var fa = Envoy_Extensions_Filters_Http_Fault_V3_FaultAbort()
            switch a.kind {
            case let .http(status): fa.httpStatus = UInt32(status)
            case let .grpc(name): fa.grpcStatus = UInt32(Self.grpcCodes[name] ?? 14)
            }
            fa.percentage = Proto.fraction(a.percentage)
            out.abort = fa
        }
        return out
    }

    static let grpcCodes: [String: Int] = [
        "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5,
        "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9, "ABORTED": 10,
        "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14, "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
    ]

    static func cors(_ c: CorsPolicy) -> Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy {
        var p = Envoy_Extensions_Filters_Http_Cors_V3_CorsPolicy()
        p.allowOriginStringMatch = c.allowOrigins.compactMap(MatchBuilder.stringMatcher)
        p.allowMethods = c.allowMethods.joined(separator: ",")
        p.allowHeaders = c.allowHeaders.joined(separator: ",")
        p.exposeHeaders = c.exposeHeaders.joined(separator: ",")
        if let age = c.maxAge { p.maxAge = String(age / 1_000_000_000) }
        if let cred = c.allowCredentials { p.allowCredentials = Google_Protobuf_BoolValue(cred) }
        return p
    }

    /// Consistent-hash routing key from the destination's DestinationRule.
    static func hashPolicy(mesh: MeshState, host: String, port: Int, subset: String?) -> Action.HashPolicy? {
        guard let ch = mesh.policy(host: host, port: port, subset: subset).loadBalancer?.consistentHash else { return nil }
        var hp = Action.HashPolicy()
        switch ch.key {
        case let .header(name):
            var h = Action.HashPolicy.Header()
            h.headerName = name
            hp.header = h
        case let .cookie(name, path, ttl):
            var c = Action.HashPolicy.Cookie()
            c.name = name
            if let path { c.path = path }
            if let ttl { c.ttl = Proto.duration(nanos: ttl) }
            hp.cookie = c
        case .sourceIP:
            var cp = Action.HashPolicy.ConnectionProperties()
            cp.sourceIp = true
            hp.connectionProperties = cp
        case let .queryParameter(name):
            var q = Action.HashPolicy.QueryParameter()
            q.name = name
            hp.queryParameter = q
        }
        return hp
    }
}

import Foundation
