import WeftCore

extension ResourceValidator {
    /// Istio's rules for Telemetry, plus Weft's limits: filter expressions must be of the CEL subset both data
    /// planes evaluate; sampling is a percentage; metric overrides name labels that exist.
    static func validateTelemetry(_ t: Telemetry, _ c: inout Checker) {
        policyScope(t.selector, t.targetRefs, &c)
        for (i, a) in (t.accessLogging ?? []).enumerated() {
            let at = "spec.accessLogging[\(i)]"
            if let e = a.filter, case let .failure(err) = LogFilter.parse(e) {
                c.error("\(at).filter.expression", "\(err.message) (in '\(e)')")
            }
        }
        for (i, tr) in (t.tracing ?? []).enumerated() {
            let at = "spec.tracing[\(i)]"
            c.percent(tr.randomSamplingPercentage, "\(at).randomSamplingPercentage")
            if tr.providers.count > 1 { c.error("\(at).providers", "at most one tracing provider is supported") }
            for tag in tr.customTags {
                if tag.tag.isEmpty { c.error("\(at).customTags", "a tag name is empty") }
                switch tag.source {
                case let .environment(n, _) where n.isEmpty, let .header(n, _) where n.isEmpty:
                    c.error("\(at).customTags.\(tag.tag)", "name is empty")
                default: break
                }
            }
        }
        if (t.tracing?.count ?? 0) > 1 && Set((t.tracing ?? []).map(\.mode)).count < t.tracing!.count {
            c.error("spec.tracing", "two tracing entries apply to the same mode")
        }
        for (i, m) in (t.metrics ?? []).enumerated() {
            let at = "spec.metrics[\(i)]"
            if m.reportingInterval != nil { c.warn("\(at).reportingInterval", "accepted but not applied: metrics are read when scraped") }
            for (j, o) in m.overrides.enumerated() {
                let oat = "\(at).overrides[\(j)]"
                if o.customMetric != nil { c.error("\(oat).match.customMetric", "custom metrics are not supported; use match.metric") }
                for tag in o.removeTags + o.upsertTags.keys.sorted() where !StandardLabelNames.all.contains(tag) {
                    c.error("\(oat).tagOverrides.\(tag)", "'\(tag)' is not a label of Istio's standard metrics")
                }
                for (tag, value) in o.upsertTags.sorted(by: { $0.key < $1.key }) where StandardLabelNames.literal(value) == nil {
                    c.error("\(oat).tagOverrides.\(tag).value", "only a quoted string literal is supported as a value, got '\(value)'")
                }
            }
        }
    }
}

/// The labels of Istio's standard metrics, for `tagOverrides`.
public enum StandardLabelNames {
    public static let all: Set<String> = [
        "reporter", "source_workload", "source_workload_namespace", "source_principal", "source_app", "source_version",
        "source_cluster", "destination_service", "destination_service_name", "destination_service_namespace",
        "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
        "destination_version", "destination_cluster", "request_protocol", "response_code", "grpc_response_status",
        "response_flags", "connection_security_policy",
    ]

    /// The text of a CEL string literal (`'x'` or `"x"`), or nil for any other expression.
    public static func literal(_ cel: String) -> String? {
        var t = Substring(cel)
        while t.first == " " { t = t.dropFirst() }
        while t.last == " " { t = t.dropLast() }
        guard t.count >= 2, let q = t.first, q == "'" || q == "\"", t.last == q else { return nil }
        let inner = t.dropFirst().dropLast()
        return inner.contains(q) ? nil : String(inner)
    }
}
