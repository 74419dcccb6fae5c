import WeftCore

/// The telemetry part of Istio's MeshConfig that Weft reads (`weft control --mesh-config`, mesh.yaml
/// `options.meshConfig`): `extensionProviders` (envoyFileAccessLog, opentelemetry, prometheus),
/// `defaultProviders`, `accessLogFile` / `accessLogEncoding` for the built-in `envoy` provider,
/// `enableTracing` and `defaultConfig.tracing.sampling`.
public struct MeshTelemetryConfig: Hashable, Sendable {
    /// The two access log formats: Istio's default text line (with the trace id last) and its default JSON.
    public enum LogEncoding: String, CaseIterable, Sendable {
        case TEXT, JSON
    }

    public struct OpenTelemetry: Hashable, Sendable {
        /// The collector's host (a name or an IP address) and port.
        public var service: String
        public var port: Int
        /// OTLP over HTTP/protobuf at this path; nil: OTLP over gRPC.
        public var httpPath: String?
        public var timeoutNanos: Int64 = 3_000_000_000
    }

    public enum Provider: Hashable, Sendable {
        /// Lines to a file (`/dev/stdout` for the proxy's output).
        case fileAccessLog(path: String, encoding: LogEncoding)
        case openTelemetry(OpenTelemetry)
        /// Istio's standard metrics (always on in weft proxy; here so Telemetry may name it).
        case prometheus
    }

    /// Providers by name, the built-in `envoy` and `prometheus` included.
    public var providers: [String: Provider]

    /// What a provider serves: the Telemetry section that may name it.
    public enum ProviderKind: String, Sendable {
        case accessLog = "access log", tracing, metrics
    }

    /// Every provider's kind, for checking the names Telemetry resources use.
    public var providerKinds: [String: ProviderKind] {
        providers.mapValues { p in
            switch p {
            case .fileAccessLog: return .accessLog
            case .openTelemetry: return .tracing
            case .prometheus: return .metrics
            }
        }
    }
    public var defaultAccessLogging: [String] = []
    public var defaultTracing: [String] = []
    public var enableTracing = true
    /// Percentage of requests traced when neither Telemetry nor the caller decides (Istio: 1%).
    public var sampling = 1.0

    public static let builtInEnvoy = "envoy"
    public static let standard = MeshTelemetryConfig()

    public init() {
        providers = [Self.builtInEnvoy: .fileAccessLog(path: "/dev/stdout", encoding: .TEXT), "prometheus": .prometheus]
    }

    public static func decode(text: String, file: String) throws(DiagnosticError) -> MeshTelemetryConfig {
        let ctx = DecodeContext(file: file)
        let top = try DocumentLoader.singleObject(text, file: file, ctx: ctx)
        let config = decode(top)
        guard ctx.diagnostics.isEmpty else { throw DiagnosticError(ctx.diagnostics) }
        return config
    }

    /// Reads a MeshConfig object; MeshConfig fields that are not about telemetry are left for others to read
    /// (this reader does not finish the object).
    public static func decode(_ r: ObjectReader) -> MeshTelemetryConfig {
        var m = MeshTelemetryConfig()
        let encoding = r.enumValue("accessLogEncoding", LogEncoding.self) ?? .TEXT
        if let f = r.string("accessLogFile") {
            m.providers[builtInEnvoy] = .fileAccessLog(path: f.isEmpty ? "/dev/stdout" : f, encoding: encoding)
            if !f.isEmpty { m.defaultAccessLogging = [builtInEnvoy] }
        } else {
            m.providers[builtInEnvoy] = .fileAccessLog(path: "/dev/stdout", encoding: encoding)
        }
        if r.has("accessLogFormat") {
            r.ctx.error(r.sub("accessLogFormat"), "a custom format is not supported; use accessLogEncoding TEXT or JSON")
            _ = r.raw("accessLogFormat")
        }
        m.enableTracing = r.bool("enableTracing") ?? true
        if let dc = r.object("defaultConfig") {
            if let t = dc.object("tracing") {
                if let s = t.double("sampling") {
                    if (0...100).contains(s) { m.sampling = s } else { t.ctx.error(t.sub("sampling"), "must be between 0 and 100, got \(s)") }
                }
                t.finish()
            }
        }
        var named: Set<String> = []
        for p in r.objects("extensionProviders", { decodeProvider($0) }) {
            if !named.insert(p.0).inserted { r.ctx.error(r.sub("extensionProviders"), "provider name '\(p.0)' is used twice") }
            m.providers[p.0] = p.1
        }
        if let d = r.object("defaultProviders") {
            m.defaultAccessLogging = d.strings("accessLogging").isEmpty && !d.has("accessLogging") ? m.defaultAccessLogging : d.strings("accessLogging")
            m.defaultTracing = d.strings("tracing")
            _ = d.strings("metrics")
            d.finish()
            for (key, names) in [("accessLogging", m.defaultAccessLogging), ("tracing", m.defaultTracing)] {
                for n in names where m.providers[n] == nil {
                    d.ctx.error(d.sub(key), "no extension provider is named '\(n)'")
                }
            }
        }
        return m
    }

    static func decodeProvider(_ r: ObjectReader) -> (String, Provider)? {
        defer { r.finish() }
        guard let name = r.string("name", required: true) else { return nil }
        if let f = r.object("envoyFileAccessLog") {
            defer { f.finish() }
            var encoding = LogEncoding.TEXT
            if let lf = f.object("logFormat") {
                if lf.has("text") {
                    lf.ctx.error(lf.sub("text"), "a custom text format is not supported; leave logFormat out for the default text line")
                    _ = lf.raw("text")
                }
                if lf.has("labels") {
                    if let labels = lf.object("labels"), !labels.pairs.isEmpty {
                        lf.ctx.error(lf.sub("labels"), "custom JSON labels are not supported; use labels: {} for the default JSON")
                    }
                    encoding = .JSON
                }
                lf.finish()
            }
            return (name, .fileAccessLog(path: f.string("path") ?? "/dev/stdout", encoding: encoding))
        }
        if let o = r.object("opentelemetry") {
            defer { o.finish() }
            let service = o.string("service", required: true) ?? ""
            let port = o.int("port", required: true) ?? 0
            if let p = PortNumber.problem(port), o.has("port") { o.ctx.error(o.sub("port"), "port " + p) }
            var otel = OpenTelemetry(service: service, port: port)
            if let h = o.object("http") {
                otel.httpPath = h.string("path") ?? "/v1/traces"
                if !(otel.httpPath ?? "").hasPrefix("/") { otel.httpPath = "/" + (otel.httpPath ?? "") }
                if let t = h.duration("timeout") { otel.timeoutNanos = t }
                _ = h.stringMap("headers")
                h.finish()
            }
            if let g = o.object("grpc") {
                if let t = g.duration("timeout") { otel.timeoutNanos = t }
                _ = g.raw("initialMetadata")
                g.finish()
            }
            _ = o.raw("resourceDetectors")
            _ = o.raw("maxTagLength")
            return (name, .openTelemetry(otel))
        }
        if let p = r.object("prometheus") {
            p.finish()
            return (name, .prometheus)
        }
        for kind in ["zipkin", "datadog", "lightstep", "skywalking", "stackdriver", "envoyExtAuthzHttp", "envoyExtAuthzGrpc",
                     "envoyHttpAls", "envoyTcpAls", "envoyOtelAls", "sds"] where r.has(kind) {
            r.ctx.error(r.sub(kind), "provider type '\(kind)' is not supported (use envoyFileAccessLog, opentelemetry or prometheus)")
            _ = r.raw(kind)
            return nil
        }
        r.ctx.error(r.path, "provider '\(name)' needs envoyFileAccessLog, opentelemetry or prometheus")
        return nil
    }
}
