/// Istio Telemetry (`telemetry.istio.io/v1`, `v1alpha1`): which access logs, traces and standard metrics the
/// sidecars of a mesh, namespace or workload produce. Mesh-wide in the root namespace, per namespace, or per
/// workload with `selector` (or `targetRefs` naming a ServiceEntry service). The most specific resource that sets
/// a section (`accessLogging`, `tracing`, `metrics`) decides that section; the others inherit it.
public struct Telemetry: Hashable, Sendable {
    public static let apiVersions: Set<String> = ["telemetry.istio.io/v1", "telemetry.istio.io/v1alpha1"]

    /// Which side of a call a rule applies to (Istio's WorkloadMode).
    public enum Mode: String, CaseIterable, Sendable {
        case CLIENT_AND_SERVER, CLIENT, SERVER

        /// Whether the rule applies on an outbound (client) or inbound (server) listener.
        public func covers(server: Bool) -> Bool {
            switch self {
            case .CLIENT_AND_SERVER: return true
            case .CLIENT: return !server
            case .SERVER: return server
            }
        }
    }

    public struct AccessLogging: Hashable, Sendable {
        public var mode: Mode = .CLIENT_AND_SERVER
        /// Provider names; empty: the mesh's default access log providers.
        public var providers: [String] = []
        public var disabled: Bool?
        /// `filter.expression`, a CEL expression of the subset Weft evaluates (LogFilterExpression).
        public var filter: String?
        public init() {}
    }

    public struct CustomTag: Hashable, Sendable {
        public enum Source: Hashable, Sendable {
            case literal(String)
            case environment(name: String, defaultValue: String?)
            case header(name: String, defaultValue: String?)
        }
        public var tag: String
        public var source: Source
    }

    public struct Tracing: Hashable, Sendable {
        public var mode: Mode = .CLIENT_AND_SERVER
        public var providers: [String] = []
        /// 0...100; nil: the mesh default.
        public var randomSamplingPercentage: Double?
        public var disableSpanReporting: Bool?
        public var customTags: [CustomTag] = []
        public init() {}
    }

    /// Istio's standard metrics by their `match.metric` names.
    public enum Metric: String, CaseIterable, Sendable {
        case ALL_METRICS, REQUEST_COUNT, REQUEST_DURATION, REQUEST_SIZE, RESPONSE_SIZE, TCP_OPENED_CONNECTIONS,
             TCP_CLOSED_CONNECTIONS, TCP_SENT_BYTES, TCP_RECEIVED_BYTES, GRPC_REQUEST_MESSAGES, GRPC_RESPONSE_MESSAGES
    }

    public struct MetricsOverride: Hashable, Sendable {
        public var metric: Metric = .ALL_METRICS
        public var customMetric: String?
        public var mode: Mode = .CLIENT_AND_SERVER
        public var disabled: Bool?
        /// Labels to drop (`tagOverrides` with `operation: REMOVE`).
        public var removeTags: [String] = []
        /// Labels to set (`operation: UPSERT`) with their CEL value as written; only string literals are applied.
        public var upsertTags: [String: String] = [:]
        public init() {}
    }

    public struct Metrics: Hashable, Sendable {
        public var providers: [String] = []
        public var overrides: [MetricsOverride] = []
        public var reportingInterval: Int64?
        public init() {}
    }

    public var selector: [String: String]?
    public var targetRefs: [PolicyTargetRef] = []
    /// nil: not set here (inherited); an empty list: set, with no rules.
    public var accessLogging: [AccessLogging]?
    public var tracing: [Tracing]?
    public var metrics: [Metrics]?

    public init() {}

    static func decode(_ r: ObjectReader) -> Telemetry {
        defer { r.finish() }
        var t = Telemetry()
        t.selector = PolicyTargetRef.selector(r)
        t.targetRefs = PolicyTargetRef.decodeAll(r)
        if r.has("accessLogging") { t.accessLogging = r.objects("accessLogging") { decodeAccessLogging($0) } }
        if r.has("tracing") { t.tracing = r.objects("tracing") { decodeTracing($0) } }
        if r.has("metrics") { t.metrics = r.objects("metrics") { decodeMetrics($0) } }
        return t
    }

    static func mode(_ r: ObjectReader) -> Mode {
        guard let m = r.object("match") else { return .CLIENT_AND_SERVER }
        defer { m.finish() }
        return m.enumValue("mode", Mode.self) ?? .CLIENT_AND_SERVER
    }

    static func providers(_ r: ObjectReader) -> [String] {
        r.objects("providers") { p in
            defer { p.finish() }
            return p.string("name", required: true)
        }
    }

    static func decodeAccessLogging(_ r: ObjectReader) -> AccessLogging {
        defer { r.finish() }
        var a = AccessLogging()
        a.mode = mode(r)
        a.providers = providers(r)
        a.disabled = r.bool("disabled")
        if let f = r.object("filter") {
            a.filter = f.string("expression")
            f.finish()
        }
        return a
    }

    static func decodeTracing(_ r: ObjectReader) -> Tracing {
        defer { r.finish() }
        var t = Tracing()
        t.mode = mode(r)
        t.providers = providers(r)
        t.randomSamplingPercentage = r.double("randomSamplingPercentage")
        t.disableSpanReporting = r.bool("disableSpanReporting")
        _ = r.bool("useRequestIdForTraceSampling")
        _ = r.raw("enableIstioTags")
        for (name, tag) in r.objectMap("customTags", { c -> CustomTag.Source? in
            defer { c.finish() }
            if let l = c.object("literal") {
                defer { l.finish() }
                return .literal(l.string("value") ?? "")
            }
            if let e = c.object("environment") {
                defer { e.finish() }
                return .environment(name: e.string("name", required: true) ?? "", defaultValue: e.string("defaultValue"))
            }
            if let h = c.object("header") {
                defer { h.finish() }
                return .header(name: h.string("name", required: true) ?? "", defaultValue: h.string("defaultValue"))
            }
            c.ctx.error(c.path, "a custom tag needs literal, environment or header")
            return nil
        }) {
            t.customTags.append(CustomTag(tag: name, source: tag))
        }
        return t
    }

    static func decodeMetrics(_ r: ObjectReader) -> Metrics {
        defer { r.finish() }
        var m = Metrics()
        m.providers = providers(r)
        m.reportingInterval = r.duration("reportingInterval")
        m.overrides = r.objects("overrides") { o in
            defer { o.finish() }
            var ov = MetricsOverride()
            if let match = o.object("match") {
                ov.metric = match.enumValue("metric", Metric.self) ?? .ALL_METRICS
                ov.customMetric = match.string("customMetric")
                ov.mode = match.enumValue("mode", Mode.self) ?? .CLIENT_AND_SERVER
                match.finish()
            }
            ov.disabled = o.bool("disabled")
            for (tag, op) in o.objectMap("tagOverrides", { t -> (String, String)? in
                defer { t.finish() }
                return (t.string("operation") ?? "UPSERT", t.string("value") ?? "")
            }) {
                switch op.0 {
                case "REMOVE": ov.removeTags.append(tag)
                case "UPSERT": ov.upsertTags[tag] = op.1
                default: o.ctx.error(o.sub("tagOverrides.\(tag).operation"), "'\(op.0)' is not one of UPSERT, REMOVE")
                }
            }
            return ov
        }
        return m
    }
}
