import WeftCore

/// What a listener records of its traffic: Istio's standard metrics (labelled by which side reports, an inbound
/// listener being the destination's sidecar, and who this proxy is, from the listener's `weft.peer` metadata),
/// access logs and tracing. A class: every connection's origin holds it, and copying that origin should cost one
/// reference, not five strings.
public final class ListenerTelemetry: Sendable, Equatable {
    public enum Reporter: String, Sendable {
        case source, destination
    }
    public let reporter: Reporter
    public let own: PeerMetadata
    /// Whether Istio's standard metrics are recorded (the listener has `weft.peer` metadata).
    public let standardMetrics: Bool
    public let accessLogs: [AccessLogConfig]
    public let tracing: TracingConfig?
    /// Telemetry's metric overrides for this listener's side, applied when the metrics are rendered.
    public let metricOverrides: MetricOverrides

    public init(reporter: Reporter, own: PeerMetadata, standardMetrics: Bool = true, accessLogs: [AccessLogConfig] = [],
                tracing: TracingConfig? = nil, metricOverrides: MetricOverrides = MetricOverrides()) {
        self.reporter = reporter
        self.own = own
        self.standardMetrics = standardMetrics
        self.accessLogs = accessLogs
        self.tracing = tracing
        self.metricOverrides = metricOverrides
    }

    public static func == (a: ListenerTelemetry, b: ListenerTelemetry) -> Bool {
        a.reporter == b.reporter && a.own == b.own && a.standardMetrics == b.standardMetrics && a.accessLogs == b.accessLogs
            && a.tracing == b.tracing && a.metricOverrides == b.metricOverrides
    }
}

/// A service behind a cluster, as Istio's cluster metadata names it (`destination_service`, `_name`, `_namespace`).
public struct ServiceRef: Sendable, Hashable {
    public var host: String
    public var name: String
    public var namespace: String

    public init(host: String, name: String, namespace: String) {
        self.host = host
        self.name = name
        self.namespace = namespace
    }

    /// A destination no cluster metadata names: the request's authority without its port, as Istio falls back to.
    public static func authority(_ authority: String) -> ServiceRef {
        var host = Substring(authority)
        if host.hasPrefix("[") {
            host = host.dropFirst().prefix { $0 != "]" }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            host = host[..<colon]
        }
        let h = host.isEmpty ? PeerMetadata.unknown : String(host)
        return ServiceRef(host: h, name: h, namespace: PeerMetadata.unknown)
    }

    public static let unknown = ServiceRef(host: PeerMetadata.unknown, name: PeerMetadata.unknown, namespace: PeerMetadata.unknown)
}
