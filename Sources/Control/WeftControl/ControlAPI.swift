import Foundation
import NIOHTTP1
import WeftHTTPServer
import WeftConfig
import WeftCore
import WeftModel
import WeftRegistry
import WeftTraffic
import XDSServer

/// The control plane's HTTP API: apply/get/delete resources, register workloads, and report status.
public struct ControlAPI: Sendable {
    let registry: MeshRegistry
    let book: ProxyStatusBook
    let cache: XDSCache?
    let hub: SnapshotHub?
    let auth: APIAuth
    /// The service graph of the last metrics window; nil when the control plane reads no metrics.
    var graph: (@Sendable () -> ServiceGraph)?

    public init(registry: MeshRegistry, book: ProxyStatusBook, cache: XDSCache? = nil, hub: SnapshotHub? = nil, auth: APIAuth = .open) {
        self.registry = registry
        self.book = book
        self.cache = cache
        self.hub = hub
        self.auth = auth
    }

    public func handle(_ req: APIRequest) async -> APIResponse {
        // Segments are percent-decoded after the split, so a name holding '/' (an old, invalid registration) can
        // still be addressed and removed: DELETE /api/v1/workloads/ns/a%2Fb.
        if req.method == .GET, req.path == "/dashboard" || req.path == "/dashboard/" {
            return APIResponse(status: .ok, body: DashboardPage.html, contentType: "text/html; charset=utf-8")
        }
        let parts = req.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        guard parts.count >= 3, parts[0] == "api", parts[1] == "v1" else { return notFound("no such API path \(req.path)") }
        let rest = Array(parts.dropFirst(2))
        let caller: APIAuth.Caller
        switch auth.caller(req) {
        case let .refused(response): return response
        case let .caller(c): caller = c
        }
        if case let .workload(ns, sa) = caller { return workloadRequest(req, rest, namespace: ns, serviceAccount: sa) }
        switch (req.method, rest.first, rest.count) {
        case (.POST, "tokens", 1): return createToken(req.body)
        case (.POST, "apply", 1): return apply(req)
        case (.GET, "resources", 1): return listResources(req.query)
        case (.DELETE, "resources", 4): return delete(kind: rest[1], namespace: rest[2], name: rest[3])
        case (.GET, "workloads", 1): return .json(.object([("workloads", .array(registry.workloads().map(Self.json)))]))
        case (.POST, "workloads", 1): return register(req.body)
        case (.PUT, "workloads", 4) where rest[3] == "heartbeat", (.POST, "workloads", 4) where rest[3] == "heartbeat":
            return registry.heartbeat(namespace: rest[1], name: rest[2])
                ? .json(.object([("ok", .bool(true))])) : notFound("workload \(rest[1])/\(rest[2]) is not registered")
        case (.DELETE, "workloads", 3):
            return registry.deregister(namespace: rest[1], name: rest[2])
                ? .json(.object([("ok", .bool(true))])) : notFound("workload \(rest[1])/\(rest[2]) is not registered")
        case (.GET, "status", 1): return status()
        case (.GET, "prometheus", 2) where rest[1] == "targets": return prometheusTargets()
        case (.GET, "graph", 1): return serviceGraph()
        default: return notFound("no such API path \(req.method) \(req.path)")
        }
    }

    func notFound(_ message: String) -> APIResponse {
        .json(.object([("errors", .array([.string(message)]))]), status: .notFound)
    }

    static func errors(_ e: DiagnosticError, status: HTTPResponseStatus = .badRequest) -> APIResponse {
        .json(.object([("errors", .array(e.diagnostics.map { .string($0.description) }))]), status: status)
    }

    func apply(_ req: APIRequest) -> APIResponse {
        let source = req.headers.first(name: "x-weft-source").flatMap { $0.isEmpty ? nil : $0 } ?? "api"
        do {
            let keys = try registry.apply(text: req.body, source: source)
            let all = registry.resources()
            let applied = Set(keys)
            let warnings = all.filter { applied.contains($0.key) }.flatMap(\.warnings)
                + ConfigSetValidator.warnings(all).filter { w in keys.contains { $0.description == w.resource } }
            return .json(.object([("applied", .array(keys.map(Self.json))),
                                  ("warnings", .array(warnings.map { .string($0.description) }))]))
        } catch {
            return Self.errors(error)
        }
    }

    func listResources(_ q: [String: String]) -> APIResponse {
        var kind: ResourceKind?
        if let k = q["kind"], !k.isEmpty {
            guard let parsed = ResourceKind(loose: k) else { return notFound("unknown kind '\(k)'") }
            kind = parsed
        }
        let items = (registry.resources() + registry.autoRegisteredEntries()).filter { r in
            (kind == nil || r.key.kind == kind) && (q["namespace"].map { $0.isEmpty || $0 == r.key.namespace } ?? true)
                && (q["name"].map { $0.isEmpty || $0 == r.key.name } ?? true)
        }
        return .json(.object([("resources", .array(items.map(Self.json)))]))
    }

    func delete(kind: String, namespace: String, name: String) -> APIResponse {
        guard let k = ResourceKind(loose: kind) else { return notFound("unknown kind '\(kind)'") }
        let key = ResourceKey(kind: k, namespace: namespace, name: name)
        do {
            if try registry.delete(key) { return .json(.object([("deleted", Self.json(key))])) }
            if registry.resources().contains(where: { $0.key == key }) {
                return .json(.object([("errors", .array([.string("\(key) comes from a file in the config folder; remove it there")]))]), status: .conflict)
            }
            return notFound("\(key) not found")
        } catch {
            return Self.errors(error, status: .conflict)
        }
    }

    struct RegistrationBody: Decodable {
        var name: String?
        /// A WorkloadGroup of the namespace: the workload is built from its template (Istio's auto-registration).
        var group: String?
        var namespace: String?
        var addresses: [String]?
        var address: String?
        var labels: [String: String]?
        var ports: [String: Int]?
        var services: [RegisteredService]?
        var ttlSeconds: Double?
        var locality: String?
        var weight: Int?
        var network: String?
        var serviceAccount: String?
    }

    /// `scope`: a join token's namespace and service account; the registration must be for exactly those (they
    /// fill in what the body leaves out).
    func register(_ body: String, scope: (namespace: String, serviceAccount: String)? = nil) -> APIResponse {
        var b: RegistrationBody
        do {
            b = try JSONDecoder().decode(RegistrationBody.self, from: Data(body.utf8))
        } catch {
            return .json(.object([("errors", .array([.string("registration body is not valid: \(error)")]))]), status: .badRequest)
        }
        if let scope {
            b.namespace = b.namespace ?? scope.namespace
            b.serviceAccount = b.serviceAccount ?? scope.serviceAccount
            guard b.namespace == scope.namespace, b.serviceAccount == scope.serviceAccount else {
                return APIAuth.forbidden("the token is for \(scope.namespace)/\(scope.serviceAccount); it cannot register "
                                         + "\(b.namespace ?? "default")/\(b.serviceAccount ?? "default")")
            }
        }
        let w = RegisteredWorkload(name: b.name ?? "", namespace: b.namespace ?? "default", addresses: b.addresses ?? (b.address.map { [$0] } ?? []),
                                   labels: b.labels ?? [:], ports: b.ports ?? [:], services: b.services ?? [], ttlSeconds: b.ttlSeconds,
                                   locality: b.locality, weight: b.weight, network: b.network, serviceAccount: b.serviceAccount)
        do {
            var name = w.name
            if let g = b.group { name = try registry.register(w, group: g).name } else { try registry.register(w) }
            return .json(.object([("registered", .string("\(w.namespace)/\(name)"))]))
        } catch {
            return Self.errors(error)
        }
    }

    func status() -> APIResponse {
        let mesh = hub?.current
        let proxies: [JSONValue] = book.all().map { p in
            guard case var .object(fields) = Self.json(p) else { return Self.json(p) }
            if let mesh { fields.append(("policies", Self.policies(mesh.access, namespace: p.namespace, labels: p.labels))) }
            return .object(fields)
        }
        return .json(.object([
            ("version", .number(Double(registry.version))),
            ("trustDomain", mesh.map { .string($0.mutualTLS.trustDomain) } ?? .null),
            ("rootNamespace", mesh.map { .string($0.access.rootNamespace) } ?? .null),
            ("proxies", .array(proxies)),
            ("xds", .object([("translations", .number(Double(cache?.translations ?? 0))),
                             ("scopes", .number(Double(cache?.scopes ?? 0))),
                             ("published", hub?.current.map { .number(Double($0.version)) } ?? .null)])),
            ("errors", .array(registry.errors().map { .string($0.description) })),
            ("resources", .array(registry.resources().map { r in
                .object([("kind", .string(r.key.kind.rawValue)), ("namespace", .string(r.key.namespace)),
                         ("name", .string(r.key.name)), ("source", .string(r.source))])
            })),
            ("workloads", .array(registry.workloads().map(Self.json))),
        ]))
    }

    static func json(_ p: ProxyStatus) -> JSONValue {
        let synced: JSONValue = p.syncedVersion.map { .number(Double($0)) } ?? .null
        let fields: [(String, JSONValue)] = [
            ("id", .string(p.id)), ("namespace", .string(p.namespace)),
            ("labels", strings(p.labels)),
            ("connected", .bool(p.connected)),
            ("acked", strings(p.acked)),
            ("sent", strings(p.sent)),
            ("nack", p.nack.map(JSONValue.string) ?? .null),
            ("syncedVersion", synced),
            ("admin", p.admin.map(JSONValue.string) ?? .null),
            ("dataPlane", .string(p.dataPlane)),
            ("certificate", p.certificate.map { c in
                .object([("identity", .string(c.identity)), ("serial", .string(c.serial)), ("expiresAt", .number(c.expiresAt))])
            } ?? .null),
        ]
        return .object(fields)
    }

    /// The AuthorizationPolicies (`ns/name` with action, and `dry-run`) and RequestAuthentications that apply to
    /// a proxy's workload.
    static func policies(_ access: AccessPolicies, namespace: String, labels: [String: String]) -> JSONValue {
        .object([
            ("authorization", .array(access.authorization(namespace: namespace, labels: labels).map { p in
                .object([("namespace", .string(p.namespace)), ("name", .string(p.name)), ("action", .string(p.spec.action.rawValue)),
                         ("dryRun", .bool(p.spec.dryRun)), ("rules", .number(Double(p.spec.rules.count)))])
            })),
            ("authentication", .array(access.authentication(namespace: namespace, labels: labels).map { p in
                .object([("namespace", .string(p.namespace)), ("name", .string(p.name)),
                         ("issuers", .array(p.spec.jwtRules.map { .string($0.issuer) }))])
            })),
        ])
    }

    static func strings(_ map: [String: String]) -> JSONValue {
        .object(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    static func json(_ key: ResourceKey) -> JSONValue {
        .object([("kind", .string(key.kind.rawValue)), ("namespace", .string(key.namespace)), ("name", .string(key.name))])
    }

    static func json(_ r: Resource) -> JSONValue {
        .object([("kind", .string(r.key.kind.rawValue)), ("namespace", .string(r.key.namespace)), ("name", .string(r.key.name)),
                 ("source", .string(r.source)), ("spec", r.document["spec"] ?? .null), ("document", r.document)])
    }

    static func json(_ w: RegisteredWorkload) -> JSONValue {
        .object([
            ("name", .string(w.name)), ("namespace", .string(w.namespace)),
            ("addresses", .array(w.addresses.map(JSONValue.string))),
            ("labels", .object(w.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("ports", .object(w.ports.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
            ("services", .array(w.services.map { s in
                .object([("name", .string(s.name)), ("port", .number(Double(s.port))),
                         ("targetPort", s.targetPort.map { .number(Double($0)) } ?? .null)])
            })),
            ("ttlSeconds", w.ttlSeconds.map(JSONValue.number) ?? .null),
            ("expiresAt", w.expiresAt.map(JSONValue.number) ?? .null),
            ("serviceAccount", w.serviceAccount.map(JSONValue.string) ?? .null),
        ])
    }
}
