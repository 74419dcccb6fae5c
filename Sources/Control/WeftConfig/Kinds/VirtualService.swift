import Foundation

/// Istio VirtualService: how requests to a set of hosts are routed.
public struct VirtualService: Hashable, Sendable {
    public var hosts: [String]
    public var gateways: [String]
    public var http: [HTTPRoute]
    public var tcp: [TCPRoute]
    public var exportTo: [String]
    /// TLS routes (SNI): checked, not applied yet (gateways); a VirtualService may hold only these.
    public var tls: [TLSRoute] = []

    /// True when the routes apply to sidecars (no gateways named, or `mesh` among them).
    public var appliesToMesh: Bool { gateways.isEmpty || gateways.contains("mesh") }
    /// A delegate VirtualService has no hosts: its http routes are merged into the root routes that name it.
    public var isDelegate: Bool { hosts.isEmpty }

    static func decode(_ r: ObjectReader) -> VirtualService {
        defer { r.finish() }
        var vs = VirtualService(
            hosts: r.strings("hosts"),
            gateways: r.strings("gateways"),
            http: r.objects("http", HTTPRoute.decode),
            tcp: r.objects("tcp", TCPRoute.decode),
            exportTo: r.strings("exportTo")
        )
        // TLS routes are applied by a later issue (gateways); checked as Istio does.
        vs.tls = r.objects("tls", TLSRoute.decode)
        return vs
    }
}

public struct HTTPRoute: Hashable, Sendable {
    public var name: String?
    public var match: [HTTPMatchRequest]
    public var route: [HTTPRouteDestination]
    public var redirect: HTTPRedirect?
    public var directResponse: HTTPDirectResponse?
    public var rewrite: HTTPRewrite?
    /// Nanoseconds.
    public var timeout: Int64?
    public var retries: HTTPRetry?
    public var fault: HTTPFault?
    public var mirror: Destination?
    public var mirrorPercentage: Double?
    /// Several mirrors, each with its own percentage (Istio's `mirrors`; exclusive with `mirror`).
    public var mirrors: [HTTPMirrorPolicy] = []
    public var corsPolicy: CorsPolicy?
    public var headers: Headers?
    /// On a root VirtualService: the delegate VirtualService whose routes this route is merged with.
    public var delegate: Delegate?

    /// The mirrors this route sends copies to: `mirrors`, or `mirror` with `mirrorPercentage`.
    public var allMirrors: [HTTPMirrorPolicy] {
        if let m = mirror { return [HTTPMirrorPolicy(destination: m, percentage: mirrorPercentage)] + mirrors }
        return mirrors
    }

    static func decode(_ r: ObjectReader) -> HTTPRoute? {
        defer { r.finish() }
        return HTTPRoute(
            name: r.string("name"),
            match: r.objects("match", HTTPMatchRequest.decode),
            route: r.objects("route", HTTPRouteDestination.decode),
            redirect: r.object("redirect").map(HTTPRedirect.decode),
            directResponse: r.object("directResponse").map(HTTPDirectResponse.decode),
            rewrite: r.object("rewrite").map(HTTPRewrite.decode),
            timeout: r.duration("timeout"),
            retries: r.object("retries").map(HTTPRetry.decode),
            fault: r.object("fault").map(HTTPFault.decode),
            mirror: r.object("mirror").flatMap(Destination.decode),
            mirrorPercentage: r.object("mirrorPercentage").flatMap(decodePercent) ?? r.int("mirrorPercent").map(Double.init),
            mirrors: r.objects("mirrors", HTTPMirrorPolicy.decode),
            corsPolicy: r.object("corsPolicy").map(CorsPolicy.decode),
            headers: r.object("headers").map(Headers.decode),
            delegate: r.object("delegate").map(Delegate.decode)
        )
    }
}

/// Istio's HTTPMirrorPolicy: a destination and the share of requests copied to it (all when unset).
public struct HTTPMirrorPolicy: Hashable, Sendable {
    public var destination: Destination
    public var percentage: Double?

    static func decode(_ r: ObjectReader) -> HTTPMirrorPolicy? {
        defer { r.finish() }
        guard let d = r.object("destination").flatMap(Destination.decode) else {
            if !r.has("destination") { r.ctx.error(r.sub("destination"), "missing required field") }
            return nil
        }
        return HTTPMirrorPolicy(destination: d, percentage: r.object("percentage").flatMap(decodePercent))
    }
}

/// Istio's Delegate: the name and namespace (default: the root's) of a delegate VirtualService.
public struct Delegate: Hashable, Sendable {
    public var name: String
    public var namespace: String?

    static func decode(_ r: ObjectReader) -> Delegate {
        defer { r.finish() }
        return Delegate(name: r.string("name") ?? "", namespace: r.string("namespace"))
    }
}

public struct HTTPMatchRequest: Hashable, Sendable {
    public var name: String?
    public var uri: StringMatch?
    public var scheme: StringMatch?
    public var method: StringMatch?
    public var authority: StringMatch?
    public var headers: [String: StringMatch]
    public var withoutHeaders: [String: StringMatch]
    public var queryParams: [String: StringMatch]
    public var port: Int?
    public var sourceLabels: [String: String]
    public var gateways: [String]
    public var ignoreUriCase: Bool
    public var sourceNamespace: String?

    static func decode(_ r: ObjectReader) -> HTTPMatchRequest? {
        defer { r.finish() }
        func map(_ key: String) -> [String: StringMatch] {
            Dictionary(r.objectMap(key, StringMatch.decode), uniquingKeysWith: { a, _ in a })
        }
        var without = map("withoutHeaders")
        for (k, v) in without where v == .regex("*") { without[k] = .present }  // Istio: `*` is "present", not RE2
        return HTTPMatchRequest(
            name: r.string("name"),
            uri: r.object("uri").flatMap(StringMatch.decode),
            scheme: r.object("scheme").flatMap(StringMatch.decode),
            method: r.object("method").flatMap(StringMatch.decode),
            authority: r.object("authority").flatMap(StringMatch.decode),
            headers: map("headers"),
            withoutHeaders: without,
            queryParams: map("queryParams"),
            port: r.int("port"),
            sourceLabels: r.stringMap("sourceLabels"),
            gateways: r.strings("gateways"),
            ignoreUriCase: r.bool("ignoreUriCase") ?? false,
            sourceNamespace: r.string("sourceNamespace")
        )
    }
}

public struct HTTPRouteDestination: Hashable, Sendable {
    public var destination: Destination
    public var weight: Int?
    public var headers: Headers?

    static func decode(_ r: ObjectReader) -> HTTPRouteDestination? {
        defer { r.finish() }
        guard let d = r.object("destination").flatMap(Destination.decode) else {
            if !r.has("destination") { r.ctx.error(r.sub("destination"), "missing required field") }
            return nil
        }
        return HTTPRouteDestination(destination: d, weight: r.int("weight"), headers: r.object("headers").map(Headers.decode))
    }
}

public struct HTTPRedirect: Hashable, Sendable {
    public var uri: String?
    public var authority: String?
    public var port: Int?
    public var scheme: String?
    public var redirectCode: Int?
    /// Replaces the matched URI prefix in the redirect location (Envoy's `prefix_rewrite`).
    public var prefixRewrite: String?

    static func decode(_ r: ObjectReader) -> HTTPRedirect {
        defer { r.finish() }
        if r.has("derivePort") {
            _ = r.string("derivePort")
            r.ctx.notApplied(r.sub("derivePort"))
        }
        // Empty strings and a 0 code are unset, as in Istio's protobuf.
        return HTTPRedirect(uri: r.nonEmptyString("uri"), authority: r.nonEmptyString("authority"), port: r.int("port").flatMap { $0 == 0 ? nil : $0 },
                            scheme: r.nonEmptyString("scheme"), redirectCode: r.int("redirectCode").flatMap { $0 == 0 ? nil : $0 },
                            prefixRewrite: r.nonEmptyString("prefixRewrite"))
    }
}

public struct HTTPDirectResponse: Hashable, Sendable {
    public var status: Int
    /// `body.string`, or `body.bytes` decoded from base64.
    public var body: [UInt8]?

    static func decode(_ r: ObjectReader) -> HTTPDirectResponse {
        defer { r.finish() }
        let status = r.int("status", required: true) ?? 200
        var body: [UInt8]?
        if let b = r.object("body") {
            if let s = b.string("string") { body = Array(s.utf8) }
            if let s = b.string("bytes") {
                if body != nil { b.ctx.error(b.path, "set only one of string and bytes") }
                if let data = Data(base64Encoded: s) { body = Array(data) } else { b.ctx.error(b.sub("bytes"), "must be base64") }
            }
            b.finish()
        }
        return HTTPDirectResponse(status: status, body: body)
    }
}

public struct HTTPRewrite: Hashable, Sendable {
    public var uri: String?
    public var authority: String?
    public var uriRegexMatch: String?
    public var uriRegexRewrite: String?

    static func decode(_ r: ObjectReader) -> HTTPRewrite {
        defer { r.finish() }
        // Empty strings are unset, as in Istio's protobuf.
        var rw = HTTPRewrite(uri: r.nonEmptyString("uri"), authority: r.nonEmptyString("authority"))
        if let rx = r.object("uriRegexRewrite") {
            let match = rx.string("match") ?? "", rewrite = rx.string("rewrite") ?? ""
            if match.isEmpty || rewrite.isEmpty { rx.ctx.error(rx.path, "uriRegexRewrite requires both match and rewrite") }
            rw.uriRegexMatch = match
            rw.uriRegexRewrite = rewrite
            rx.finish()
        }
        return rw
    }
}

public struct HTTPRetry: Hashable, Sendable {
    public var attempts: Int
    public var perTryTimeout: Int64?
    public var retryOn: String?
    /// Parsed and checked (Istio refuses it with attempts 0), not applied yet.
    public var retryRemoteLocalities: Bool?

    static func decode(_ r: ObjectReader) -> HTTPRetry {
        defer { r.finish() }
        let remote = r.bool("retryRemoteLocalities")
        if remote != nil { r.ctx.notApplied(r.sub("retryRemoteLocalities")) }
        return HTTPRetry(attempts: r.int("attempts") ?? 0, perTryTimeout: r.duration("perTryTimeout"), retryOn: r.string("retryOn"),
                         retryRemoteLocalities: remote)
    }
}

public struct HTTPFault: Hashable, Sendable {
    public struct Delay: Hashable, Sendable {
        public var fixedDelay: Int64
        public var percentage: Double
    }
    public enum AbortKind: Hashable, Sendable {
        case http(Int)
        case grpc(String)
    }
    public struct Abort: Hashable, Sendable {
        public var kind: AbortKind
        public var percentage: Double
    }
    public var delay: Delay?
    public var abort: Abort?

    static func decode(_ r: ObjectReader) -> HTTPFault {
        defer { r.finish() }
        var fault = HTTPFault()
        if let d = r.object("delay") {
            let fixed = d.duration("fixedDelay")
            if fixed == nil && !d.has("fixedDelay") { d.ctx.error(d.sub("fixedDelay"), "missing required field") }
            let pct = d.object("percentage").flatMap(decodePercent) ?? d.int("percent").map(Double.init) ?? 100
            fault.delay = Delay(fixedDelay: fixed ?? 0, percentage: pct)
            d.finish()
        }
        if let a = r.object("abort") {
            let pct = a.object("percentage").flatMap(decodePercent) ?? 100
            if let status = a.int("httpStatus") {
                fault.abort = Abort(kind: .http(status), percentage: pct)
            } else if let grpc = a.string("grpcStatus") {
                fault.abort = Abort(kind: .grpc(grpc), percentage: pct)
            } else {
                a.ctx.error(a.sub("httpStatus"), "set httpStatus or grpcStatus")
            }
            a.finish()
        }
        return fault
    }
}

public struct CorsPolicy: Hashable, Sendable {
    public var allowOrigins: [StringMatch]
    public var allowMethods: [String]
    public var allowHeaders: [String]
    public var exposeHeaders: [String]
    public var maxAge: Int64?
    public var allowCredentials: Bool?

    static func decode(_ r: ObjectReader) -> CorsPolicy {
        defer { r.finish() }
        var origins = r.objects("allowOrigins", StringMatch.decode)
        origins += r.strings("allowOrigin").map { StringMatch.exact($0) }
        return CorsPolicy(allowOrigins: origins, allowMethods: r.strings("allowMethods"),
                          allowHeaders: r.strings("allowHeaders"), exposeHeaders: r.strings("exposeHeaders"),
                          maxAge: r.duration("maxAge"), allowCredentials: r.bool("allowCredentials"))
    }
}

/// Istio's TLSRoute: SNI matches and weighted destinations (not applied yet).
public struct TLSRoute: Hashable, Sendable {
    public struct Match: Hashable, Sendable {
        public var sniHosts: [String]
        public var destinationSubnets: [String]
        public var port: Int?
        public var sourceLabels: [String: String]
        public var gateways: [String]
    }
    public var match: [Match]
    public var route: [HTTPRouteDestination]

    static func decode(_ r: ObjectReader) -> TLSRoute? {
        defer { r.finish() }
        let matches: [Match] = r.objects("match") { m in
            defer { m.finish() }
            _ = m.string("sourceNamespace")
            return Match(sniHosts: m.strings("sniHosts"), destinationSubnets: m.strings("destinationSubnets"), port: m.int("port"),
                         sourceLabels: m.stringMap("sourceLabels"), gateways: m.strings("gateways"))
        }
        return TLSRoute(match: matches, route: r.objects("route", HTTPRouteDestination.decode))
    }
}

public struct TCPRoute: Hashable, Sendable {
    public struct Match: Hashable, Sendable {
        public var port: Int?
        public var destinationSubnets: [String]
        public var sourceLabels: [String: String]
    }
    public var match: [Match]
    public var route: [HTTPRouteDestination]

    static func decode(_ r: ObjectReader) -> TCPRoute? {
        defer { r.finish() }
        let matches: [Match] = r.objects("match") { m in
            defer { m.finish() }
            for k in ["gateways", "sourceNamespace"] where m.has(k) { m.ctx.notApplied(m.sub(k)) }
            _ = m.strings("gateways")
            _ = m.string("sourceNamespace")
            return Match(port: m.int("port"), destinationSubnets: m.strings("destinationSubnets"), sourceLabels: m.stringMap("sourceLabels"))
        }
        return TCPRoute(match: matches, route: r.objects("route", HTTPRouteDestination.decode))
    }
}
