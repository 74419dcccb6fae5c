import EnvoyAPI
import ProxyConfig
import ProxyRouting

/// EDS: ClusterLoadAssignment -> endpoints, and socket addresses.
extension XDSConversion {
    /// Converts a ClusterLoadAssignment into endpoints (locality `region/zone/sub_zone`, priority, weight, health).
    public static func endpoints(_ la: Envoy_Config_Endpoint_V3_ClusterLoadAssignment) throws(XDSConversionError) -> [EndpointConfig] {
        try converting("ClusterLoadAssignment \(la.clusterName)") { try endpointFields(la) }
    }

    static func endpointFields(_ la: Envoy_Config_Endpoint_V3_ClusterLoadAssignment) throws -> [EndpointConfig] {
        // The overprovisioning policy is Envoy's default (1.4); locality weights are kept on each endpoint.
        try each("endpoints", la.endpoints) { group -> [EndpointConfig] in
            let locality = group.locality.path
            let localityWeight = group.hasLoadBalancingWeight ? Int(group.loadBalancingWeight.value) : 1
            return try each("lb_endpoints", group.lbEndpoints) { lb -> EndpointConfig in
                guard case let .endpoint(e)? = lb.hostIdentifier else {
                    throw FieldError("only endpoint addresses are supported (not endpoint_name)", at: ["endpoint"])
                }
                let (host, port) = try field("endpoint") { try field("address") { try socketAddress(e.address) } }
                let weight = lb.hasLoadBalancingWeight ? Int(lb.loadBalancingWeight.value) : 1
                guard weight > 0 else { throw FieldError("must be at least 1", at: ["load_balancing_weight"]) }
                let healthy: Bool
                switch lb.healthStatus {
                case .unknown, .healthy, .degraded: healthy = true
                case .unhealthy, .draining, .timeout: healthy = false
                case let .UNRECOGNIZED(v): throw FieldError("unknown health_status \(v)", at: ["health_status"])
                }
                var ep = EndpointConfig(host: host, port: port, weight: weight, locality: locality,
                                        priority: Int(group.priority), healthy: healthy, localityWeight: localityWeight)
                ep.meshTLS = marksMeshTLS(lb.metadata)
                return ep
            }
        }.flatMap { $0 }
    }

    /// A TCP socket address with a numeric port.
    static func socketAddress(_ a: Envoy_Config_Core_V3_Address) throws -> (String, Int) {
        guard case let .socketAddress(sa)? = a.address else { throw FieldError("only socket_address is supported") }
        guard sa.protocol == .tcp else { throw FieldError("only TCP is supported", at: ["socket_address", "protocol"]) }
        guard !sa.address.isEmpty else { throw FieldError("address is empty", at: ["socket_address", "address"]) }
        guard case let .portValue(p)? = sa.portSpecifier, p <= 65535 else {
            throw FieldError("a port_value 0-65535 is required (named_port is not supported)", at: ["socket_address", "port_value"])
        }
        return (sa.address, Int(p))
    }

    static func isADS(_ cs: Envoy_Config_Core_V3_ConfigSource) -> Bool {
        switch cs.configSourceSpecifier {
        case .ads?, .self_p?: return true
        default: return false
        }
    }
}
