import WeftCore

/// One edge of the service graph: who calls (a workload) and what it calls (a service, and the version that
/// answered where the proxy knows it).
public struct EdgeKey: Hashable, Sendable, Codable {
    public var source: String
    public var sourceNamespace: String
    public var sourceApp: String
    public var service: String
    public var serviceName: String
    public var serviceNamespace: String
    public var version: String

    public init(source: String, sourceNamespace: String, sourceApp: String, service: String, serviceName: String,
                serviceNamespace: String, version: String) {
        self.source = source
        self.sourceNamespace = sourceNamespace
        self.sourceApp = sourceApp
        self.service = service
        self.serviceName = serviceName
        self.serviceNamespace = serviceNamespace
        self.version = version
    }
}

/// What one proxy has counted for one edge since it started (cumulative, as Prometheus counters are).
public struct EdgeCounters: Sendable, Equatable {
    public var requests: Double = 0
    /// Requests answered 5xx or ended with a response flag.
    public var errors: Double = 0
    /// Requests that went over mesh mTLS.
    public var mtls: Double = 0
    /// Errors by response flag (`5xx` for an upstream 5xx without one).
    public var byFlag: [String: Double] = [:]
    /// The duration histogram: cumulative counts by upper bound in milliseconds (`+Inf` as infinity).
    public var buckets: [Double: Double] = [:]

    public init() {}
}

/// Reads one scrape of a proxy into edge counters: weft proxy's Istio standard metrics, or Envoy's own cluster
/// statistics (which know less: the destination version only as the subset in the cluster name, and only the
/// answers upstreams gave, not the proxy's own local replies).
public enum TrafficSample {
    static let weftNames: Set<Substring> = ["istio_requests_total", "istio_request_duration_milliseconds_bucket"]
    static let envoyNames: Set<Substring> = ["envoy_cluster_upstream_rq", "envoy_cluster_upstream_rq_time_bucket", "envoy_cluster_ssl_handshake"]

    /// The metric names `weft(_:)` and `envoy(_:source:)` read (to skip parsing the rest).
    public static func wanted(_ name: Substring) -> Bool { weftNames.contains(name) || envoyNames.contains(name) }

    /// weft proxy: what the source side reported, plus destination reports of callers with no sidecar of their
    /// own (nobody else reports those calls).
    public static func weft(_ samples: [PromSample]) -> [EdgeKey: EdgeCounters] {
        var out: [EdgeKey: EdgeCounters] = [:]
        for s in samples where weftNames.contains(Substring(s.name)) {
            let l = s.labels
            let reporter = l["reporter"] ?? ""
            guard reporter == "source" || (reporter == "destination" && l["source_workload"] == PeerMetadata.unknown) else { continue }
            let key = EdgeKey(source: l["source_workload"] ?? PeerMetadata.unknown, sourceNamespace: l["source_workload_namespace"] ?? PeerMetadata.unknown,
                              sourceApp: l["source_app"] ?? PeerMetadata.unknown, service: l["destination_service"] ?? PeerMetadata.unknown,
                              serviceName: l["destination_service_name"] ?? PeerMetadata.unknown,
                              serviceNamespace: l["destination_service_namespace"] ?? PeerMetadata.unknown,
                              version: l["destination_version"] ?? PeerMetadata.unknown)
            var c = out[key] ?? EdgeCounters()
            if s.name == "istio_requests_total" {
                c.requests += s.value
                let code = Int(l["response_code"] ?? "") ?? 0
                let flag = l["response_flags"] ?? "-"
                if code >= 500 || code == 0 || flag != "-" {
                    c.errors += s.value
                    c.byFlag[flag != "-" ? flag : code == 0 ? "DC" : "5xx", default: 0] += s.value
                }
                if l["connection_security_policy"] == "mutual_tls" || (reporter == "source" && (l["source_principal"] ?? PeerMetadata.unknown) != PeerMetadata.unknown) {
                    c.mtls += s.value
                }
            } else if let bound = l["le"].flatMap(Self.bound) {
                c.buckets[bound, default: 0] += s.value
            }
            out[key] = c
        }
        return out
    }

    /// Envoy: its outbound clusters (`outbound|PORT|SUBSET|HOST`), the proxy being the caller.
    public static func envoy(_ samples: [PromSample], source: PeerMetadata) -> [EdgeKey: EdgeCounters] {
        var out: [EdgeKey: EdgeCounters] = [:]
        var handshakes: [String: Double] = [:]
        for s in samples where envoyNames.contains(Substring(s.name)) {
            guard let cluster = s.labels["envoy_cluster_name"], let (host, subset) = outbound(cluster) else { continue }
            if s.name == "envoy_cluster_ssl_handshake" { handshakes[host, default: 0] += s.value; continue }
            let (name, ns) = serviceName(host)
            let key = EdgeKey(source: source.workload, sourceNamespace: source.namespace, sourceApp: source.app, service: host,
                              serviceName: name, serviceNamespace: ns, version: subset.isEmpty ? PeerMetadata.unknown : subset)
            var c = out[key] ?? EdgeCounters()
            if s.name == "envoy_cluster_upstream_rq" {
                c.requests += s.value
                if let code = Int(s.labels["envoy_response_code"] ?? ""), code >= 500 {
                    c.errors += s.value
                    c.byFlag["5xx", default: 0] += s.value
                }
            } else if let bound = s.labels["le"].flatMap(Self.bound) {
                c.buckets[bound, default: 0] += s.value
            }
            out[key] = c
        }
        // A cluster whose connections did TLS handshakes carries mesh mTLS.
        for (key, c) in out where (handshakes[key.service] ?? 0) > 0 { out[key]!.mtls = c.requests }
        return out
    }

    /// `outbound|9080|v1|reviews.shop.svc.cluster.local` -> (host, subset).
    static func outbound(_ cluster: String) -> (String, String)? {
        let parts = cluster.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "outbound", !parts[3].isEmpty else { return nil }
        return (String(parts[3]), String(parts[2]))
    }

    /// `reviews.shop.svc.cluster.local` -> (reviews, shop); any other host is its own name, namespace unknown.
    public static func serviceName(_ host: String) -> (String, String) {
        let parts = host.split(separator: ".")
        if parts.count >= 3, parts[2] == "svc" { return (String(parts[0]), String(parts[1])) }
        return (host, PeerMetadata.unknown)
    }

    static func bound(_ le: String) -> Double? {
        le == "+Inf" ? .infinity : Double(le)
    }
}
