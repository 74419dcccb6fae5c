import WeftCore

/// Istio's standard metrics in Prometheus' text format, with Istio's metric and label names and label order.
public enum StandardMetricsText {
    public typealias TCPTotals = (opened: Int, closed: Int, sent: Int, received: Int)

    /// `overrides`: Telemetry's metric overrides by the reporting side (a metric disabled is left out; series whose
    /// labels become equal once labels are removed are added up).
    public static func render(requests: [StandardMetrics.RequestKey: StandardMetrics.RequestValues],
                              tcp: [StandardMetrics.TCPKey: TCPTotals],
                              overrides: [ListenerTelemetry.Reporter: MetricOverrides] = [:]) -> String {
        var out = ""
        func series<V>(_ metric: String, _ items: [(ListenerTelemetry.Reporter, [(String, String)], V)], _ add: (inout V, V) -> Void)
            -> [(String, V)] {
            var merged: [String: V] = [:]
            for (reporter, labels, v) in items {
                guard let l = (overrides[reporter] ?? MetricOverrides()).apply(metric: metric, labels) else { continue }
                let key = pairs(l)
                if merged[key] == nil { merged[key] = v } else { add(&merged[key]!, v) }
            }
            return merged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        let http = requests.map { ($0.key.reporter, labelList($0.key), $0.value) }
        out += "# TYPE istio_requests_total counter\n"
        for (l, v) in series("istio_requests_total", http.map { ($0.0, $0.1, $0.2.count) }, { $0 += $1 }) {
            out += "istio_requests_total{\(l)} \(v)\n"
        }
        for (name, pick) in [("istio_request_duration_milliseconds", \StandardMetrics.RequestValues.duration),
                             ("istio_request_bytes", \StandardMetrics.RequestValues.requestBytes),
                             ("istio_response_bytes", \StandardMetrics.RequestValues.responseBytes)] {
            histogram(name, series(name, http.map { ($0.0, $0.1, $0.2[keyPath: pick]) }, { $0.add($1) }), into: &out)
        }
        let conns = tcp.map { ($0.key.reporter, labelList($0.key), $0.value) }
        let counters: [(String, (TCPTotals) -> Int)] = [
            ("istio_tcp_sent_bytes_total", { $0.sent }), ("istio_tcp_received_bytes_total", { $0.received }),
            ("istio_tcp_connections_opened_total", { $0.opened }), ("istio_tcp_connections_closed_total", { $0.closed }),
        ]
        for (name, value) in counters {
            out += "# TYPE \(name) counter\n"
            for (l, v) in series(name, conns.map { ($0.0, $0.1, value($0.2)) }, { $0 += $1 }) { out += "\(name){\(l)} \(v)\n" }
        }
        return out
    }

    static func histogram(_ name: String, _ series: [(String, StandardMetrics.Histogram)], into out: inout String) {
        out += "# TYPE \(name) histogram\n"
        for (l, h) in series {
            var cumulative = 0
            for (i, bound) in StandardMetrics.Histogram.bounds.enumerated() {
                cumulative += h.buckets[i]
                out += "\(name)_bucket{\(l),le=\"\(number(bound))\"} \(cumulative)\n"
            }
            cumulative += h.buckets.last ?? 0
            out += "\(name)_bucket{\(l),le=\"+Inf\"} \(cumulative)\n"
            out += "\(name)_sum{\(l)} \(number(h.sum))\n"
            out += "\(name)_count{\(l)} \(cumulative)\n"
        }
    }

    /// `0.5`, `10`, `3600000`: whole numbers without a fraction, as Envoy prints its bucket bounds.
    static func number(_ v: Double) -> String {
        v.rounded() == v && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }

    static func labels(_ k: StandardMetrics.RequestKey) -> String { pairs(labelList(k)) }

    static func labelList(_ k: StandardMetrics.RequestKey) -> [(String, String)] {
        [("reporter", k.reporter.rawValue)] + peers(k.source, k.destination, k.service) + [
            ("request_protocol", k.requestProtocol), ("response_code", String(k.responseCode)),
            ("grpc_response_status", k.grpcStatus), ("response_flags", k.responseFlags),
            ("connection_security_policy", k.securityPolicy),
        ]
    }

    static func labelList(_ k: StandardMetrics.TCPKey) -> [(String, String)] {
        [("reporter", k.reporter.rawValue)] + peers(k.source, k.destination, k.service) + [
            ("request_protocol", "tcp"), ("response_flags", k.responseFlags), ("connection_security_policy", k.securityPolicy),
        ]
    }

    static func peers(_ s: PeerMetadata, _ d: PeerMetadata, _ svc: ServiceRef) -> [(String, String)] {
        [("source_workload", s.workload), ("source_workload_namespace", s.namespace), ("source_principal", s.principal),
         ("source_app", s.app), ("source_version", s.version),
         ("destination_workload", d.workload), ("destination_workload_namespace", d.namespace),
         ("destination_principal", d.principal), ("destination_app", d.app), ("destination_version", d.version),
         ("destination_service", svc.host), ("destination_service_name", svc.name),
         ("destination_service_namespace", svc.namespace)]
    }

    static func pairs(_ p: [(String, String)]) -> String {
        p.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
    }

    /// A label value: backslash, quote and newline escaped.
    public static func escape(_ s: String) -> String {
        guard s.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return s }
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }
}
