import EnvoyAPI
import ProxyConfig
import ProxyRouting
import SwiftProtobuf

/// Pure conversions from xDS resources to ProxyRouting values. No I/O; each function throws an
/// `XDSConversionError` naming the resource and the field path of the first problem.
public enum XDSConversion {}

/// A converted CDS cluster, plus the EDS name its endpoints come from (for `.eds` clusters).
public struct ConvertedCluster: Sendable, Equatable {
    public var config: ClusterConfig
    /// `eds_cluster_config.service_name`, or else the cluster name; nil for clusters with inline endpoints.
    public var edsServiceName: String?
}

extension XDSConversion {
    typealias Cluster = Envoy_Config_Cluster_V3_Cluster

    /// Envoy's connect_timeout default.
    static let defaultConnectTimeout: Duration = .seconds(5)

    /// Converts a CDS Cluster. Static and DNS clusters carry their endpoints from `load_assignment`.
    public static func cluster(_ c: Envoy_Config_Cluster_V3_Cluster) throws(XDSConversionError) -> ConvertedCluster {
        try converting("Cluster \(c.name)") { try clusterFields(c) }
    }

    static func clusterFields(_ c: Cluster) throws -> ConvertedCluster {
        guard !c.name.isEmpty else { throw FieldError("name is empty", at: ["name"]) }
        var out = ClusterConfig(name: c.name, connectTimeout: defaultConnectTimeout)
        out.services = try clusterServices(c.metadata)
        var eds: String?
        switch c.type {
        case .static: out.discovery = .staticEndpoints
        case .strictDns: out.discovery = .strictDNS
        case .logicalDns: out.discovery = .logicalDNS
        case .eds:
            out.discovery = .eds
            if c.hasEdsClusterConfig, c.edsClusterConfig.hasEdsConfig, !isADS(c.edsClusterConfig.edsConfig) {
                throw FieldError("only ADS is supported as the EDS config source", at: ["eds_cluster_config", "eds_config"])
            }
            eds = c.edsClusterConfig.serviceName.isEmpty ? c.name : c.edsClusterConfig.serviceName
        case .originalDst:
            // The proxy does not intercept connections, so the destination can only come from a header.
            guard c.originalDstLbConfig.useHTTPHeader else {
                throw FieldError("ORIGINAL_DST needs original_dst_lb_config.use_http_header (no transparent interception)",
                                 at: ["original_dst_lb_config", "use_http_header"])
            }
            let header = c.originalDstLbConfig.httpHeaderName
            guard header.isEmpty || header.lowercased() == "x-envoy-original-dst-host" else {
                throw FieldError("only the default header x-envoy-original-dst-host is supported", at: ["original_dst_lb_config", "http_header_name"])
            }
            if c.originalDstLbConfig.hasUpstreamPortOverride {
                throw FieldError("upstream_port_override is not supported", at: ["original_dst_lb_config", "upstream_port_override"])
            }
            out.discovery = .originalDestination
        case let .UNRECOGNIZED(v): throw FieldError("unknown discovery type \(v)", at: ["type"])
        }
        switch c.lbPolicy {
        case .roundRobin: out.lbPolicy = .roundRobin
        case .leastRequest: out.lbPolicy = .leastRequest
        case .random: out.lbPolicy = .random
        case .ringHash: out.lbPolicy = .ringHash
        case .maglev: out.lbPolicy = .maglev
        case .clusterProvided where c.type == .originalDst: out.lbPolicy = .roundRobin
        case .clusterProvided, .loadBalancingPolicyConfig, .UNRECOGNIZED:
            throw FieldError("lb_policy \(c.lbPolicy) is not supported", at: ["lb_policy"])
        }
        if c.hasConnectTimeout { out.connectTimeout = try field("connect_timeout") { try Convert.duration(c.connectTimeout) } }
        guard out.connectTimeout > .zero else { throw FieldError("must be positive", at: ["connect_timeout"]) }
        if c.hasCircuitBreakers { out.limits = try field("circuit_breakers") { try limits(c.circuitBreakers) } }
        out.meshTLS = try upstreamTLS(c)
        for key in c.typedExtensionProtocolOptions.keys.sorted() {
            let any = c.typedExtensionProtocolOptions[key]!
            guard key == FilterName.httpProtocolOptions else {
                throw FieldError("unsupported protocol options '\(key)'", at: ["typed_extension_protocol_options[\(key)]"])
            }
            try field("typed_extension_protocol_options[\(key)]") { try apply(protocolOptions: any, to: &out) }
        }
        if c.hasLoadAssignment && c.type != .eds {
            out.endpoints = try field("load_assignment") { try endpointFields(c.loadAssignment) }
        }
        if c.hasOutlierDetection { out.outlier = try field("outlier_detection") { try outlier(c.outlierDetection) } }
        if c.hasCommonLbConfig && c.commonLbConfig.hasHealthyPanicThreshold {
            out.panicThresholdPercent = c.commonLbConfig.healthyPanicThreshold.value
        }
        out.healthCheck = try healthCheck(c.healthChecks)
        if case .localityWeightedLbConfig? = c.commonLbConfig.localityConfigSpecifier { out.localityWeighted = true }
        // Accepted but not represented in ClusterConfig yet: ring hash / maglev table sizes, least-request choice
        // count, dns_lookup_family and dns refresh settings.
        return ConvertedCluster(config: out, edsServiceName: eds)
    }

    /// Envoy's defaults where a field is unset: 5 consecutive 5xx enforced at 100%, gateway failures not
    /// enforced, 10 s interval, 30 s base ejection, 300 s max ejection, 10% max ejected.
    static func outlier(_ o: Envoy_Config_Cluster_V3_OutlierDetection) throws -> OutlierConfig {
        var out = OutlierConfig()
        if o.hasConsecutive5Xx { out.consecutive5xx = Int(o.consecutive5Xx.value) }
        if o.hasEnforcingConsecutive5Xx { out.enforcing5xx = Int(o.enforcingConsecutive5Xx.value) }
        if o.hasConsecutiveGatewayFailure { out.consecutiveGatewayFailure = Int(o.consecutiveGatewayFailure.value) }
        if o.hasEnforcingConsecutiveGatewayFailure { out.enforcingGatewayFailure = Int(o.enforcingConsecutiveGatewayFailure.value) }
        if o.hasInterval { out.interval = try Convert.duration(o.interval) }
        if o.hasBaseEjectionTime { out.baseEjectionTime = try Convert.duration(o.baseEjectionTime) }
        if o.hasMaxEjectionTime { out.maxEjectionTime = try Convert.duration(o.maxEjectionTime) }
        if o.hasMaxEjectionPercent { out.maxEjectionPercent = Int(o.maxEjectionPercent.value) }
        guard out.baseEjectionTime > .zero else { throw FieldError("must be positive", at: ["base_ejection_time"]) }
        return out
    }

    /// The DEFAULT-priority thresholds (HIGH priority is not used by the proxy's routes).
    static func limits(_ cb: Envoy_Config_Cluster_V3_CircuitBreakers) throws -> CircuitLimits {
        if !cb.perHostThresholds.isEmpty { throw FieldError("per_host_thresholds is not supported", at: ["per_host_thresholds"]) }
        var l = CircuitLimits()
        for t in cb.thresholds where t.priority == .default {
            if t.hasRetryBudget {
                // Envoy's defaults for an empty budget: 20% and 3.
                l.retryBudgetPercent = t.retryBudget.hasBudgetPercent ? t.retryBudget.budgetPercent.value : 20
                l.minRetryConcurrency = t.retryBudget.hasMinRetryConcurrency ? Int(t.retryBudget.minRetryConcurrency.value) : 3
            }
            if t.hasMaxConnections { l.maxConnections = Int(t.maxConnections.value) }
            if t.hasMaxPendingRequests { l.maxPendingRequests = Int(t.maxPendingRequests.value) }
            if t.hasMaxRequests { l.maxRequests = Int(t.maxRequests.value) }
            if t.hasMaxRetries { l.maxRetries = Int(t.maxRetries.value) }
        }
        return l
    }

    static func apply(protocolOptions any: Google_Protobuf_Any, to c: inout ClusterConfig) throws {
        let o = try Convert.unpack(any, as: Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.self)
        switch o.upstreamProtocolOptions {
        case let .explicitHTTPConfig(e)?:
            switch e.protocolConfig {
            case .http2ProtocolOptions?: c.http2 = true
            case .httpProtocolOptions?, nil: c.http2 = false
            }
        case .useDownstreamProtocolConfig?:
            throw FieldError("use_downstream_protocol_config is not supported", at: ["use_downstream_protocol_config"])
        case nil: break
        }
        if o.hasCommonHTTPProtocolOptions {
            let common = o.commonHTTPProtocolOptions
            if common.hasMaxRequestsPerConnection, common.maxRequestsPerConnection.value > 0 {
                c.maxRequestsPerConnection = Int(common.maxRequestsPerConnection.value)
            }
            if common.hasIdleTimeout {
                let t = try field("common_http_protocol_options") { try field("idle_timeout") { try Convert.duration(common.idleTimeout) } }
                c.idleTimeout = t == .zero ? nil : t
            }
        }
    }
}
