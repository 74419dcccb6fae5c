import WeftConfig

/// Telemetry resources and the mesh's telemetry config, resolved per workload as Istio does: a resource in the
/// root namespace without selector applies to the mesh, one without selector to its namespace, one with
/// `selector` or `targetRefs` to the workloads it selects. For each section (`accessLogging`, `tracing`,
/// `metrics`) the most specific resource that sets it wins; where none does, the mesh defaults apply.
public struct TelemetryPolicies: Sendable {
    public var mesh = MeshTelemetryConfig.standard
    var resources: [AccessPolicies.Named<Telemetry>] = []

    public init() {}

    init(resources all: [Resource]) {
        for r in all.sorted(by: { $0.key < $1.key }) {
            if case let .telemetry(t) = r.spec { resources.append(.init(namespace: r.key.namespace, name: r.key.name, spec: t)) }
        }
    }

    /// One access log a listener writes.
    public struct AccessLog: Hashable, Sendable {
        public var provider: String
        public var path: String
        public var encoding: MeshTelemetryConfig.LogEncoding
        public var filter: LogFilter?
    }

    /// How a listener traces its requests.
    public struct Tracing: Hashable, Sendable {
        public var provider: String
        public var collector: MeshTelemetryConfig.OpenTelemetry
        /// 0...100.
        public var sampling: Double
        public var customTags: [Telemetry.CustomTag]
    }

    /// What one side (client: outbound listeners, server: inbound) of a workload records.
    public struct Effective: Hashable, Sendable {
        public var accessLogs: [AccessLog] = []
        public var tracing: Tracing?
        /// Metric overrides for this side, in order (later ones win).
        public var metricOverrides: [Telemetry.MetricsOverride] = []
        /// Whether any proxy-side telemetry beyond standard metrics is on.
        public var isEmpty: Bool { accessLogs.isEmpty && tracing == nil && metricOverrides.isEmpty }
    }

    /// The telemetry of one side of a workload.
    public func effective(namespace: String, labels: [String: String], server: Bool, selectors: AccessPolicies) -> Effective {
        let chain = applicable(namespace: namespace, labels: labels, selectors: selectors)
        var out = Effective()
        if let logging = chain.lazy.compactMap(\.spec.accessLogging).first {
            for entry in logging where entry.mode.covers(server: server) {
                let names = entry.providers.isEmpty ? mesh.defaultAccessLogging : entry.providers
                if entry.disabled == true {
                    out.accessLogs.removeAll { names.contains($0.provider) }
                    continue
                }
                let filter = entry.filter.flatMap { try? LogFilter.parse($0).get() }
                for n in names {
                    guard case let .fileAccessLog(path, encoding)? = mesh.providers[n] else { continue }
                    out.accessLogs.removeAll { $0.provider == n }
                    out.accessLogs.append(AccessLog(provider: n, path: path, encoding: encoding, filter: filter))
                }
            }
        } else {
            for n in mesh.defaultAccessLogging {
                if case let .fileAccessLog(path, encoding)? = mesh.providers[n] {
                    out.accessLogs.append(AccessLog(provider: n, path: path, encoding: encoding, filter: nil))
                }
            }
        }
        if let tracing = chain.lazy.compactMap(\.spec.tracing).first {
            if let entry = tracing.first(where: { $0.mode.covers(server: server) }), entry.disableSpanReporting != true {
                out.tracing = openTelemetry(entry.providers.isEmpty ? mesh.defaultTracing : entry.providers,
                                            sampling: entry.randomSamplingPercentage ?? mesh.sampling, tags: entry.customTags)
            }
        } else if mesh.enableTracing {
            out.tracing = openTelemetry(mesh.defaultTracing, sampling: mesh.sampling, tags: [])
        }
        if let metrics = chain.lazy.compactMap(\.spec.metrics).first {
            for m in metrics where m.providers.isEmpty || m.providers.contains(where: { if case .prometheus? = mesh.providers[$0] { true } else { false } }) {
                out.metricOverrides += m.overrides.filter { $0.mode.covers(server: server) }
            }
        }
        return out
    }

    func openTelemetry(_ names: [String], sampling: Double, tags: [Telemetry.CustomTag]) -> Tracing? {
        for n in names {
            if case let .openTelemetry(o)? = mesh.providers[n] { return Tracing(provider: n, collector: o, sampling: sampling, customTags: tags) }
        }
        return nil
    }

    /// The resources that apply, most specific first: workload, namespace, mesh.
    func applicable(namespace: String, labels: [String: String], selectors: AccessPolicies)
        -> [AccessPolicies.Named<Telemetry>] {
        var workload: [AccessPolicies.Named<Telemetry>] = [], ns: [AccessPolicies.Named<Telemetry>] = []
        var root: [AccessPolicies.Named<Telemetry>] = []
        for r in resources where selectors.applies(r.namespace, r.spec.selector, r.spec.targetRefs, namespace, labels) {
            if !(r.spec.selector ?? [:]).isEmpty || !r.spec.targetRefs.isEmpty {
                workload.append(r)
            } else if r.namespace == namespace {
                ns.append(r)
            } else {
                root.append(r)
            }
        }
        return workload + ns + root
    }
}
