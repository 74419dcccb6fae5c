import NIOCore
import NIOHTTP1
import ProxyHTTP
import ProxyConfig
import ProxyUpstream
import ProxyRouting
import WeftCore
import WeftHTTPServer

/// The admin endpoint: /ready, /config_dump, /stats (Envoy's text format of the counters kept by Envoy name),
/// /stats/prometheus (everything), /clusters.
struct AdminPage: Sendable {
    let runtime: ProxyRuntime
    let xdsStatus: @Sendable () -> (connected: Bool, nack: String?)

    func handle(_ req: APIRequest) async -> APIResponse {
        switch req.path {
        case "/ready":
            return runtime.isReady ? APIResponse(status: .ok, body: "LIVE\n", contentType: "text/plain")
                : APIResponse(status: .serviceUnavailable, body: "PRE_INITIALIZING\n", contentType: "text/plain")
        case "/config_dump": return .json(configDump())
        case "/stats/prometheus": return APIResponse(status: .ok, body: await Metrics.prometheus(runtime), contentType: "text/plain; version=0.0.4")
        case "/stats" where req.query["format"] == "prometheus":
            return APIResponse(status: .ok, body: await Metrics.prometheus(runtime), contentType: "text/plain; version=0.0.4")
        case "/stats":
            // Envoy's text format (`name: value`) for the counters kept by Envoy name (RBAC's).
            return APIResponse(status: .ok, body: await Metrics.envoyText(runtime, filter: req.query["filter"]), contentType: "text/plain")
        case "/clusters": return APIResponse(status: .ok, body: await clusters(), contentType: "text/plain")
        default: return APIResponse(status: .notFound, body: "admin paths: /ready /config_dump /stats /stats/prometheus /clusters\n", contentType: "text/plain")
        }
    }

    func configDump() -> JSONValue {
        let s = runtime.snapshot
        let x = xdsStatus()
        func str(_ v: String) -> JSONValue { .string(v) }
        let listeners: [JSONValue] = s.listeners.keys.sorted().map { name in
            let l = s.listeners[name]!
            let kind: JSONValue
            switch l.kind {
            case let .http(table, _): kind = .object([("http", .object([("route_config", str(table))]))])
            case let .tcp(cs, _): kind = .object([("tcp", .array(cs.map { .object([("cluster", str($0.name)), ("weight", .number(Double($0.weight)))]) }))])
            }
            return .object([("name", str(name)), ("address", str(HostPort(host: l.host, port: l.port).description)), ("kind", kind)])
        }
        let clusters: [JSONValue] = s.clusters.keys.sorted().map { name in
            let c = s.clusters[name]!
            return .object([
                ("name", str(name)), ("lb_policy", str("\(c.lbPolicy)")), ("http2", .bool(c.http2)),
                ("connect_timeout_ms", .number((c.connectTimeout / .milliseconds(1)).rounded(.down))),
                ("endpoints", .array(c.endpoints.map { e in
                    .object([("address", str(HostPort(host: e.host, port: e.port).description)), ("weight", .number(Double(e.weight))),
                             ("locality", str(e.locality)), ("healthy", .bool(e.healthy))])
                })),
            ])
        }
        let routes: [JSONValue] = s.routeTables.keys.sorted().map { name in
            let t = s.routeTables[name]!
            return .object([("name", str(name)), ("virtual_hosts", .array(t.virtualHosts.map { vh in
                .object([("name", str(vh.name)), ("domains", .array(vh.domains.map(str))),
                         ("routes", .array(vh.routes.map { r in .object([("name", str(r.name)), ("action", str(Self.describe(r.action)))]) }))])
            }))])
        }
        return .object([
            ("xds", .object([("connected", .bool(x.connected)), ("nack", x.nack.map(str) ?? .null)])),
            ("versions", .object(s.versions.sorted { $0.key < $1.key }.map { ($0.key, str($0.value)) })),
            ("listeners", .array(listeners)), ("clusters", .array(clusters)), ("routes", .array(routes)),
        ])
    }

    static func describe(_ a: RouteAction) -> String {
        switch a {
        case let .forward(f): return "forward " + f.clusters.map { "\($0.name)=\($0.weight)" }.joined(separator: ",")
        case let .redirect(r): return "redirect \(r.status)"
        case let .direct(status, _): return "direct \(status)"
        }
    }

    func clusters() async -> String {
        let s = runtime.snapshot
        let stats = await Metrics.collect(runtime)
        let failing = (try? await runtime.healthChecker.failing().get()) ?? [:]
        var out = ""
        for name in s.clusters.keys.sorted() {
            let c = s.clusters[name]!
            let cs = stats.clusters[name]
            out += "\(name)::default_priority::max_connections::\(c.limits.maxConnections)\n"
            out += "\(name)::cx_active::\(cs?.connectionsActive ?? 0)\n"
            for e in c.endpoints {
                let a = HostPort(host: e.host, port: e.port).description
                let ejected = stats.ejected[name]?.contains(a) ?? false
                let hcFailed = c.healthCheck != nil && (failing[name]?.contains(EndpointAddress(host: e.host, port: e.port)) ?? false)
                var flag = [(!e.healthy, "/failed_eds_health"), (hcFailed, "/failed_active_hc"), (ejected, "/failed_outlier_check")]
                    .filter(\.0).map(\.1).joined()
                if flag.isEmpty { flag = "healthy" }
                let flags = flag
                out += "\(name)::\(a)::health_flags::\(flags)\n"
                out += "\(name)::\(a)::weight::\(e.weight)\n"
                out += "\(name)::\(a)::locality::\(e.locality)\n"
            }
        }
        return out
    }
}
