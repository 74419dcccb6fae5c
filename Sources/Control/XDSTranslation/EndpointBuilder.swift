import EnvoyAPI
import SwiftProtobuf
import WeftModel

/// Groups endpoints by locality (and, for locality-aware callers, priority) into a ClusterLoadAssignment.
enum EndpointBuilder {
    /// `mutualTLS`: endpoints whose workload takes mesh mTLS carry the metadata auto mTLS matches, unless their
    /// PeerAuthentication disables it (as Istio drops `tlsMode` then, so callers send plaintext).
    static func assignment(cluster: String, endpoints: [Endpoint], locality: LocalityPriorities? = nil,
                           mutualTLS: MutualTLSPolicies? = nil)
        -> Envoy_Config_Endpoint_V3_ClusterLoadAssignment {
        var la = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
        la.clusterName = cluster
        let priorities = locality.map { $0.priorities(endpoints) } ?? endpoints.map { _ in 0 }
        struct Group: Hashable, Comparable {
            var priority: Int
            var locality: String
            static func < (a: Group, b: Group) -> Bool { (a.priority, a.locality) < (b.priority, b.locality) }
        }
        var groups: [Group: [Endpoint]] = [:]
        for (e, p) in zip(endpoints, priorities) { groups[Group(priority: p, locality: e.locality ?? ""), default: []].append(e) }
        let allLocalities = Array(Set(endpoints.map { $0.locality ?? "" }))
        for key in groups.keys.sorted() {
            var group = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
            if !key.locality.isEmpty { group.locality = Envoy_Config_Core_V3_Locality(path: key.locality) }
            group.priority = UInt32(key.priority)
            if let locality, locality.distribution != nil {
                let w = locality.weight(of: key.locality, among: allLocalities)
                if w == 0 { continue }
                group.loadBalancingWeight = Proto.u32(w)
            }
            let sorted = groups[key]!.sorted { ($0.address, $0.port) < ($1.address, $1.port) }
            group.lbEndpoints = sorted.map { e in
                var ep = Envoy_Config_Endpoint_V3_Endpoint()
                ep.address = Proto.address(e.address, e.port)
                var lb = Envoy_Config_Endpoint_V3_LbEndpoint()
                lb.endpoint = ep
                lb.healthStatus = .healthy
                if let w = e.weight, w > 0 { lb.loadBalancingWeight = Proto.u32(w) }
                if let mutualTLS, e.acceptsMutualTLS,
                   mutualTLS.mode(namespace: e.identity?.namespace ?? "", labels: e.labels, ports: [e.port]) != .DISABLE {
                    lb.metadata = MeshTLSBuilder.endpointMetadata()
                }
                return lb
            }
            la.endpoints.append(group)
        }
        return la
    }
}
