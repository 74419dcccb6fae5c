import WeftCore

/// Active health checking of a service's endpoints, which Istio lacks. Weft reads it from annotations on the
/// DestinationRule of the service (so the rule stays valid Istio YAML):
///
///     health.weft.dev/type: http | tcp | grpc       (required to turn checking on)
///     health.weft.dev/path: /healthz                (http; default /healthz)
///     health.weft.dev/grpc-service: NAME            (grpc; default "", the whole server)
///     health.weft.dev/interval: 5s                  (default 5s)
///     health.weft.dev/timeout: 1s                   (default 1s, at most the interval)
///     health.weft.dev/unhealthy-threshold: "2"      (consecutive failures; default 2)
///     health.weft.dev/healthy-threshold: "1"        (consecutive passes; default 1)
public struct ActiveHealthCheck: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable { case http, tcp, grpc }
    public var kind: Kind
    public var path: String = "/healthz"
    public var grpcService: String = ""
    /// Nanoseconds.
    public var interval: Int64 = 5_000_000_000
    public var timeout: Int64 = 1_000_000_000
    public var unhealthyThreshold = 2
    public var healthyThreshold = 1

    public static let prefix = "health.weft.dev/"
    static let keys = ["type", "path", "grpc-service", "interval", "timeout", "unhealthy-threshold", "healthy-threshold"]

    /// Reads the `health.weft.dev/` annotations; nil when none is set. Problems go to `ctx` with the
    /// annotation's path, e.g. `metadata.annotations["health.weft.dev/interval"]`.
    static func decode(annotations: [String: String], ctx: DecodeContext) -> ActiveHealthCheck? {
        let ours = annotations.filter { $0.key.hasPrefix(prefix) }
        guard !ours.isEmpty else { return nil }
        func path(_ key: String) -> String { "metadata.annotations[\"\(prefix)\(key)\"]" }
        for k in ours.keys.sorted() where !keys.contains(String(k.dropFirst(prefix.count))) {
            ctx.error("metadata.annotations[\"\(k)\"]", "unknown health check annotation (known: \(keys.map { prefix + $0 }.joined(separator: ", ")))")
        }
        guard let t = ours[prefix + "type"] else {
            ctx.error(path("type"), "missing: set http, tcp or grpc to turn health checking on")
            return nil
        }
        guard let kind = Kind(rawValue: t) else {
            ctx.error(path("type"), "'\(t)' is not one of http, tcp, grpc")
            return nil
        }
        var hc = ActiveHealthCheck(kind: kind)
        if let p = ours[prefix + "path"] {
            if kind != .http { ctx.error(path("path"), "only for type http") }
            if !p.hasPrefix("/") || p.contains(" ") { ctx.error(path("path"), "'\(p)' must start with / and have no spaces") }
            hc.path = p
        }
        if let s = ours[prefix + "grpc-service"] {
            if kind != .grpc { ctx.error(path("grpc-service"), "only for type grpc") }
            hc.grpcService = s
        }
        func duration(_ key: String) -> Int64? {
            guard let text = ours[prefix + key] else { return nil }
            switch ConfigDuration.parse(text) {
            case let .success(ns) where ns >= 1_000_000: return ns
            case .failure(.tooLong): ctx.error(path(key), ConfigDuration.message(text, .tooLong))
            default: ctx.error(path(key), "'\(text)' is not a duration of at least 1ms (for example 1s, 500ms)")
            }
            return nil
        }
        func count(_ key: String) -> Int? {
            guard let text = ours[prefix + key] else { return nil }
            guard let n = Int(text), n >= 1 else {
                ctx.error(path(key), "'\(text)' must be a whole number of at least 1")
                return nil
            }
            return n
        }
        if let v = duration("interval") { hc.interval = v }
        if let v = duration("timeout") { hc.timeout = v }
        if let v = count("unhealthy-threshold") { hc.unhealthyThreshold = v }
        if let v = count("healthy-threshold") { hc.healthyThreshold = v }
        if hc.timeout > hc.interval { ctx.error(path("timeout"), "must not be longer than the interval") }
        return hc
    }
}
