import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftModel

/// Builds one Envoy cluster per service port and per subset, with the DestinationRule's policy.
struct ClusterBuilder {
    let mesh: MeshState
    let proxy: ProxyNode
    static let defaultConnectTimeout: Int64 = 10_000_000_000

    typealias Cluster = Envoy_Config_Cluster_V3_Cluster
    typealias Assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment

    func build(service: Service) -> ([Cluster], [Assignment]) {
        var clusters: [Cluster] = []
        var assignments: [Assignment] = []
        let subsets = mesh.destinationRules[service.host]?.spec.subsets ?? []
        let healthCheck = mesh.destinationRules[service.host]?.spec.healthCheck
        for port in service.ports.sorted(by: { $0.number < $1.number }) {
            let variants: [(String?, [String: String])] = [(nil, [:])] + subsets.map { ($0.name, $0.labels) }
            for (subset, labels) in variants {
                let name = ClusterName.outbound(host: service.host, port: port.number, subset: subset)
                let policy = mesh.policy(host: service.host, port: port.number, subset: subset)
                var c = cluster(name: name, service: service, port: port, policy: policy)
                if let hc = healthCheck, service.resolution != .NONE {
                    c.healthChecks = [HealthCheckBuilder.healthCheck(hc, host: service.host, port: port)]
                }
                let locality = localityPriorities(policy, healthChecked: healthCheck != nil)
                if locality?.distribution != nil {
                    c.commonLbConfig.localityWeightedLbConfig = Cluster.CommonLbConfig.LocalityWeightedLbConfig()
                }
                let endpoints = mesh.endpoints(host: service.host, port: port.number, subsetLabels: labels)
                Self.stabilizeRing(&c, endpoints: endpoints.count, configured: policy.loadBalancer?.consistentHash?.minimumRingSize)
                if !c.healthChecks.isEmpty {
                    // Health changes reach Envoy's load balancer at once, not batched over the default 1 s window.
                    c.commonLbConfig.updateMergeWindow = Proto.seconds(0)
                }
                let la = EndpointBuilder.assignment(cluster: name, endpoints: endpoints, locality: locality, mutualTLS: proxy.speaksMeshTLS ? mesh.mutualTLS : nil)
                switch service.resolution {
                case .STATIC:
                    c.type = .eds
                    var eds = Cluster.EdsClusterConfig()
                    eds.edsConfig = Proto.adsSource()
                    c.edsClusterConfig = eds
                    assignments.append(la)
                case .DNS, .DNS_ROUND_ROBIN:
                    c.type = service.resolution == .DNS ? .strictDns : .logicalDns
                    c.loadAssignment = la
                    c.dnsLookupFamily = .v4Preferred
                case .NONE:
                    c.type = .originalDst
                    c.lbPolicy = .clusterProvided
                    var od = Cluster.OriginalDstLbConfig()
                    od.useHTTPHeader = true
                    c.originalDstLbConfig = od
                case .DYNAMIC_DNS:
                    continue  // not applied yet (MeshState leaves these services out)
                }
                clusters.append(c)
            }
        }
        return (clusters, assignments)
    }

    /// Locality-aware load balancing applies when the caller has a locality and the service's policy has a way to
    /// notice failure (outlier detection or an active health check) or a localityLbSetting that is not disabled.
    func localityPriorities(_ policy: TrafficPolicy, healthChecked: Bool) -> LocalityPriorities? {
        guard let mine = proxy.locality, !mine.isEmpty else { return nil }
        let setting = policy.loadBalancer?.localityLbSetting
        if setting?.enabled == false { return nil }
        guard setting != nil || policy.outlierDetection != nil || healthChecked else { return nil }
        return LocalityPriorities(proxyLocality: mine, setting: setting, proxyLabels: proxy.labels)
    }

    func cluster(name: String, service: Service, port: ServicePort, policy: TrafficPolicy) -> Cluster {
        var c = Cluster()
        c.name = name
        c.metadata = TelemetryMetadata.cluster(services: [service])
        c.connectTimeout = Proto.duration(nanos: policy.connectionPool?.connectTimeout ?? Self.defaultConnectTimeout)
        Self.apply(loadBalancer: policy.loadBalancer, to: &c)
        c.circuitBreakers = Self.circuitBreakers(policy.connectionPool, budget: policy.retryBudget)
        if let od = policy.outlierDetection { Self.apply(outlier: od, to: &c) }
        let options = Self.protocolOptions(port: port, pool: policy.connectionPool)
        if let options { c.typedExtensionProtocolOptions[FilterName.httpProtocolOptions] = Proto.any(options) }
        if let tls = policy.tls, let socket = TLSBuilder.upstream(tls, host: service.host) {
            c.transportSocket = socket
        } else if proxy.speaksMeshTLS && policy.tls?.mode != .DISABLE {
            // As Istio: whatever the location, endpoints marked as having a sidecar get mTLS, the others plaintext.
            // Istio's SNI for mesh traffic: the cluster name with `|` written as `_.`.
            let sni = name.replacingOccurrences(of: "|", with: "_.")
            let ids = service.identities(port: port.number, trustDomain: mesh.mutualTLS.trustDomain)
            let alpn = port.protocol.isHTTP2 ? ["h2"] : port.protocol.isHTTP ? ["http/1.1"] : []
            if policy.tls?.mode == .ISTIO_MUTUAL {
                c.transportSocket = MeshTLSBuilder.upstream(identities: ids, alpn: alpn, sni: sni)
            } else {
                c.transportSocketMatches = [MeshTLSBuilder.autoMatch(identities: ids, alpn: alpn, sni: sni)]
            }
        }
        return c
    }

    /// Envoy gives each host ceil(minimum_ring_size / hosts) points, so with a fixed ring size every host's points
    /// change when a host comes or goes and keys move between hosts that stayed. Unless the DestinationRule sets
    /// a size, Weft sizes the ring at `ringPointsPerHost` x hosts: each host keeps the same points, and only the
    /// keys of a host that left (or that a new host takes) move.
    static let ringPointsPerHost = 256

    static func stabilizeRing(_ c: inout Cluster, endpoints: Int, configured: Int?) {
        guard c.lbPolicy == .ringHash, configured == nil, endpoints > 0 else { return }
        c.ringHashLbConfig.minimumRingSize = Google_Protobuf_UInt64Value(UInt64(ringPointsPerHost * endpoints))
    }

    static func apply(loadBalancer lb: LoadBalancer?, to c: inout Cluster) {
        guard let lb else { return }
        if let ch = lb.consistentHash {
            if let table = ch.maglevTableSize {
                c.lbPolicy = .maglev
                var m = Cluster.MaglevLbConfig()
                m.tableSize = Google_Protobuf_UInt64Value(UInt64(table))
                c.maglevLbConfig = m
            } else {
                c.lbPolicy = .ringHash
                var r = Cluster.RingHashLbConfig()
                if let min = ch.minimumRingSize { r.minimumRingSize = Google_Protobuf_UInt64Value(UInt64(min)) }
                c.ringHashLbConfig = r
            }
            return
        }
        switch lb.simple {
        case .LEAST_CONN?, .LEAST_REQUEST?: c.lbPolicy = .leastRequest
        case .RANDOM?: c.lbPolicy = .random
        default: c.lbPolicy = .roundRobin
        }
    }

    /// Retry budgets are on by default (20% of active requests, at least 3 retries in flight), so a retry storm
    /// cannot multiply load; a DestinationRule's `retryBudget` changes the numbers.
    static let defaultRetryBudgetPercent = 20.0
    static let defaultMinRetryConcurrency = 3

    static func circuitBreakers(_ cp: ConnectionPool?, budget: RetryBudget?) -> Envoy_Config_Cluster_V3_CircuitBreakers {
        var t = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
        if let v = cp?.maxConnections { t.maxConnections = Proto.u32(v) }
        if let v = cp?.http1MaxPendingRequests { t.maxPendingRequests = Proto.u32(v) }
        if let v = cp?.http2MaxRequests { t.maxRequests = Proto.u32(v) }
        if let v = cp?.maxRetries { t.maxRetries = Proto.u32(v) }
        var rb = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds.RetryBudget()
        rb.budgetPercent = Proto.percent(budget?.percent ?? defaultRetryBudgetPercent)
        rb.minRetryConcurrency = Proto.u32(budget?.minRetryConcurrency ?? defaultMinRetryConcurrency)
        t.retryBudget = rb
        var cb = Envoy_Config_Cluster_V3_CircuitBreakers()
        cb.thresholds = [t]
        return cb
    }

    static func apply(outlier od: OutlierDetection, to c: inout Cluster) {
        var o = Envoy_Config_Cluster_V3_OutlierDetection()
        // Istio: when only gateway errors are configured, 5xx detection is off.
        if let v = od.consecutive5xxErrors {
            o.consecutive5Xx = Proto.u32(v)
            o.enforcingConsecutive5Xx = Proto.u32(v > 0 ? 100 : 0)
        } else if od.consecutiveGatewayErrors != nil {
            o.enforcingConsecutive5Xx = Proto.u32(0)
        }
        if let v = od.consecutiveGatewayErrors {
            o.consecutiveGatewayFailure = Proto.u32(v)
            o.enforcingConsecutiveGatewayFailure = Proto.u32(v > 0 ? 100 : 0)
        }
        if let v = od.consecutiveLocalOriginFailures { o.consecutiveLocalOriginFailure = Proto.u32(v) }
        if let v = od.splitExternalLocalOriginErrors { o.splitExternalLocalOriginErrors = v }
        if let v = od.interval { o.interval = Proto.duration(nanos: v) }
        if let v = od.baseEjectionTime { o.baseEjectionTime = Proto.duration(nanos: v) }
        if let v = od.maxEjectionPercent { o.maxEjectionPercent = Proto.u32(v) }
        o.enforcingSuccessRate = Proto.u32(0)
        c.outlierDetection = o
        if let v = od.minHealthPercent {
            var common = Cluster.CommonLbConfig()
            common.healthyPanicThreshold = Proto.percent(Double(v))
            c.commonLbConfig.healthyPanicThreshold = common.healthyPanicThreshold
        }
    }

    /// HTTP/2 upstream for gRPC and HTTP2 ports; per-connection limits and idle timeout from the pool.
    static func protocolOptions(port: ServicePort, pool: ConnectionPool?) -> Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions? {
        guard port.protocol.isHTTP else { return nil }
        var common = Envoy_Config_Core_V3_HttpProtocolOptions()
        var touched = false
        if let v = pool?.maxRequestsPerConnection, v > 0 { common.maxRequestsPerConnection = Proto.u32(v); touched = true }
        if let v = pool?.httpIdleTimeout { common.idleTimeout = Proto.duration(nanos: v); touched = true }
        let h2 = port.protocol.isHTTP2 || pool?.h2UpgradePolicy == "UPGRADE"
        guard touched || h2 else { return nil }
        var o = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
        if touched { o.commonHTTPProtocolOptions = common }
        var explicit = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.ExplicitHttpConfig()
        if h2 {
            var h2opts = Envoy_Config_Core_V3_Http2ProtocolOptions()
            if let v = pool?.maxConcurrentStreams { h2opts.maxConcurrentStreams = Proto.u32(v) }
            explicit.http2ProtocolOptions = h2opts
        } else {
            explicit.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
        }
        o.explicitHTTPConfig = explicit
        return o
    }
}
