import Foundation
import WeftConfig
import WeftCore
import WeftModel

/// Turns the text of a `mesh.yaml` into a MeshSpec, or every problem at once as
/// `FILE: field.path: message` diagnostics (the same shape as Istio config errors).
public enum MeshDecoder {
    public static let protocols = ["http", "http2", "grpc", "tcp"]

    public static func decode(text: String, file: String) throws(DiagnosticError) -> MeshSpec {
        let ctx = DecodeContext(file: file)
        let top = try DocumentLoader.singleObject(text, file: file, ctx: ctx)
        let namespace = top.string("namespace") ?? "default"
        if !ResourceDecoder.isDNSLabelish(namespace) { ctx.error("namespace", "'\(namespace)' must be lower-case letters, digits and '-'") }
        let config = top.string("config")
        let options = top.object("options").map(decodeOptions) ?? MeshOptions()
        if !top.has("services") { ctx.error("services", "missing required field") }
        let services = top.objects("services", decodeService)
        if top.has("services") && services.isEmpty && ctx.diagnostics.isEmpty { ctx.error("services", "must list at least one service") }
        top.finish()
        MeshValidation.check(services, ctx: ctx)
        guard ctx.diagnostics.isEmpty else { throw DiagnosticError(ctx.diagnostics) }
        return MeshSpec(namespace: namespace, configFolder: config, services: services, options: options)
    }

    static func decodeService(_ r: ObjectReader) -> ServiceSpec? {
        let name = r.string("name", required: true) ?? ""
        let version = r.string("version")
        let command = decodeCommand(r)
        let port = r.int("port", required: true)
        let target = r.int("targetPort")
        let proto = (r.string("protocol") ?? "http").lowercased()
        if !protocols.contains(proto) { r.ctx.error(r.sub("protocol"), "'\(proto)' is not one of \(protocols.joined(separator: ", "))") }
        let replicas = r.int("replicas") ?? 1
        let labels = r.stringMap("labels")
        let env = r.stringMap("env")
        let serviceAccount = r.string("serviceAccount")
        if let sa = serviceAccount, !KubernetesName.isSubdomain(sa) { r.ctx.error(r.sub("serviceAccount"), KubernetesName.subdomainProblem(sa)) }
        r.finish()
        guard let command, let port else { return nil }
        return ServiceSpec(name: name, version: version, command: command, port: port, targetPort: target, protocol: proto,
                           replicas: replicas, labels: labels, env: env, serviceAccount: serviceAccount)
    }

    /// `command: "python3 app.py --flag"` (a shell line) or `command: [python3, app.py]`.
    static func decodeCommand(_ r: ObjectReader) -> LaunchCommand? {
        guard let v = r.raw("command") else {
            r.ctx.error(r.sub("command"), "missing required field")
            return nil
        }
        switch v {
        case let .string(s) where !s.trimmingCharacters(in: .whitespaces).isEmpty: return .shell(s)
        case let .array(items) where !items.isEmpty:
            let words = items.compactMap(\.stringValue)
            guard words.count == items.count else {
                r.ctx.error(r.sub("command"), "must be a list of strings")
                return nil
            }
            return .argv(words)
        default:
            r.ctx.error(r.sub("command"), "must be a command line (a string) or a non-empty list of strings")
            return nil
        }
    }

    static func decodeOptions(_ r: ObjectReader) -> MeshOptions {
        var o = MeshOptions()
        o.ipv6 = r.bool("ipv6") ?? false
        o.xds = address(r, "xds")
        o.api = address(r, "api")
        if let ns = r.duration("restartBackoff") { o.restartInitial = Double(ns) / 1e9 }
        if let ns = r.duration("restartBackoffMax") { o.restartMax = Double(ns) / 1e9 }
        if let ns = r.duration("ttl") {
            o.ttlSeconds = Double(ns) / 1e9
            if ns <= 0 { r.ctx.error(r.sub("ttl"), "must be greater than 0") }
        }
        o.proxyLogs = r.bool("proxyLogs") ?? false
        if let l = r.object("limits") { o.limits = ListenerLimits.decode(l) }
        if let m = r.object("meshConfig") {
            o.meshTelemetry = MeshTelemetryConfig.decode(m)
            m.finish()
        }
        if o.restartMax < o.restartInitial { r.ctx.error(r.sub("restartBackoffMax"), "must not be less than restartBackoff") }
        r.finish()
        return o
    }

    static func address(_ r: ObjectReader, _ key: String) -> HostPort? {
        guard let s = r.string(key) else { return nil }
        do { return try HostPort(parsing: s, field: r.sub(key)) } catch {
            r.ctx.error(r.sub(key), error.message)
            return nil
        }
    }
}
