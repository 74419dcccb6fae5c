/// Telemetry's `metrics.overrides` for one side (client: the source reporter, server: the destination
/// reporter), applied when the standard metrics are rendered: a metric disabled, labels removed or set.
public struct MetricOverrides: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        /// Istio's metric name (`REQUEST_COUNT`, ...) or `ALL_METRICS`.
        public var metric: String
        public var disabled: Bool?
        public var remove: [String]
        public var upsert: [String: String]

        public init(metric: String, disabled: Bool? = nil, remove: [String] = [], upsert: [String: String] = [:]) {
            self.metric = metric
            self.disabled = disabled
            self.remove = remove
            self.upsert = upsert
        }
    }

    public var rules: [Rule]
    public init(rules: [Rule] = []) { self.rules = rules }

    /// Istio's metric names by the Prometheus name they rename.
    public static let istioNames: [String: String] = [
        "istio_requests_total": "REQUEST_COUNT", "istio_request_duration_milliseconds": "REQUEST_DURATION",
        "istio_request_bytes": "REQUEST_SIZE", "istio_response_bytes": "RESPONSE_SIZE",
        "istio_tcp_connections_opened_total": "TCP_OPENED_CONNECTIONS", "istio_tcp_connections_closed_total": "TCP_CLOSED_CONNECTIONS",
        "istio_tcp_sent_bytes_total": "TCP_SENT_BYTES", "istio_tcp_received_bytes_total": "TCP_RECEIVED_BYTES",
    ]

    /// The labels a series of `metric` (a Prometheus name) is written with; nil when the metric is disabled.
    public func apply(metric: String, _ labels: [(String, String)]) -> [(String, String)]? {
        guard !rules.isEmpty else { return labels }
        let name = Self.istioNames[metric] ?? metric
        var out = labels
        var disabled = false
        for r in rules where r.metric == "ALL_METRICS" || r.metric == name {
            if let d = r.disabled { disabled = d }
            out.removeAll { r.remove.contains($0.0) }
            for (k, v) in r.upsert.sorted(by: { $0.key < $1.key }) {
                if let i = out.firstIndex(where: { $0.0 == k }) { out[i].1 = v } else { out.append((k, v)) }
            }
        }
        return disabled ? nil : out
    }
}
