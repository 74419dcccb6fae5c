import EnvoyAPI
import ProxyConfig
import SwiftProtobuf
import WeftCore

/// The metadata that labels Istio's standard metrics: a listener's `weft.peer` (who this proxy is) and a
/// cluster's `istio.services` (Istio's cluster metadata: the services it reaches). Both are optional; a value
/// of the wrong shape is refused with its path, as any other field.
extension XDSConversion {
    /// The listener's telemetry: the reporter by its traffic direction (inbound: the destination's sidecar), who
    /// this proxy is (standard metrics are recorded only where the listener says), its access logs and tracing.
    static func listenerTelemetry(_ l: Envoy_Config_Listener_V3_Listener, accessLogs: [AccessLogConfig],
                                  tracing: TracingConfig?) throws -> ListenerTelemetry? {
        let reporter: ListenerTelemetry.Reporter = l.trafficDirection == .inbound ? .destination : .source
        guard let v = l.metadata.filterMetadata[WeftListenerMetadata.key]?.fields[WeftListenerMetadata.peer] else {
            if accessLogs.isEmpty && tracing == nil { return nil }
            return ListenerTelemetry(reporter: reporter, own: PeerMetadata(), standardMetrics: false, accessLogs: accessLogs, tracing: tracing)
        }
        guard case let .stringValue(s)? = v.kind else {
            throw FieldError("must be a string (workload=...;namespace=...)", at: ["metadata", "filter_metadata", WeftListenerMetadata.key, WeftListenerMetadata.peer])
        }
        let overrides = try metricOverrides(l.metadata)
        return ListenerTelemetry(reporter: reporter, own: PeerMetadata(headerValue: s), accessLogs: accessLogs, tracing: tracing,
                                 metricOverrides: overrides)
    }

    /// `filter_metadata.weft.metrics`: Telemetry's metric overrides (see WeftListenerMetadata.metrics).
    static func metricOverrides(_ m: Envoy_Config_Core_V3_Metadata) throws -> MetricOverrides {
        guard let v = m.filterMetadata[WeftListenerMetadata.key]?.fields[WeftListenerMetadata.metrics] else { return MetricOverrides() }
        let path = ["metadata", "filter_metadata", WeftListenerMetadata.key, WeftListenerMetadata.metrics]
        guard case let .listValue(list)? = v.kind else { throw FieldError("must be a list", at: path) }
        return MetricOverrides(rules: try list.values.enumerated().map { i, item in
            guard case let .structValue(s)? = item.kind, case let .stringValue(metric)? = s.fields["metric"]?.kind else {
                throw FieldError("must be a struct with a metric name", at: path + ["[\(i)]"])
            }
            var rule = MetricOverrides.Rule(metric: metric)
            if case let .boolValue(d)? = s.fields["disabled"]?.kind { rule.disabled = d }
            if case let .listValue(r)? = s.fields["remove"]?.kind {
                rule.remove = r.values.compactMap { if case let .stringValue(t)? = $0.kind { t } else { nil } }
            }
            if case let .structValue(u)? = s.fields["upsert"]?.kind {
                for (k, val) in u.fields { if case let .stringValue(t)? = val.kind { rule.upsert[k] = t } }
            }
            return rule
        })
    }

    /// `filter_metadata.istio.services`: a list of `{host, name, namespace}`.
    static func clusterServices(_ m: Envoy_Config_Core_V3_Metadata) throws -> [ServiceRef] {
        guard let v = m.filterMetadata[IstioClusterMetadata.key]?.fields[IstioClusterMetadata.services] else { return [] }
        let path = ["metadata", "filter_metadata", IstioClusterMetadata.key, IstioClusterMetadata.services]
        guard case let .listValue(list)? = v.kind else { throw FieldError("must be a list", at: path) }
        return try list.values.enumerated().map { i, item in
            guard case let .structValue(s)? = item.kind else { throw FieldError("must be a struct", at: path + ["[\(i)]"]) }
            func text(_ key: String) throws -> String {
                guard let f = s.fields[key] else { return "" }
                guard case let .stringValue(t)? = f.kind else { throw FieldError("must be a string", at: path + ["[\(i)]", key]) }
                return t
            }
            let host = try text(IstioClusterMetadata.host)
            guard !host.isEmpty else { throw FieldError("host is empty", at: path + ["[\(i)]", IstioClusterMetadata.host]) }
            let name = try text(IstioClusterMetadata.name), ns = try text(IstioClusterMetadata.namespace)
            return ServiceRef(host: host, name: name.isEmpty ? host : name, namespace: ns.isEmpty ? PeerMetadata.unknown : ns)
        }
    }
}
