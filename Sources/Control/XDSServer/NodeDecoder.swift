import EnvoyAPI
import SwiftProtobuf
import WeftCore
import WeftModel

/// Converts the Envoy node of a DiscoveryRequest into a ProxyNode, once, at the edge.
public enum NodeDecoder {
    public static func decode(_ node: Envoy_Config_Core_V3_Node) -> ProxyNode {
        let meta = node.metadata.fields
        func string(_ key: String) -> String? {
            if case let .stringValue(s)? = meta[key]?.kind, !s.isEmpty { return s }
            return nil
        }
        var labels: [String: String] = [:]
        if case let .structValue(st)? = meta[NodeMetadataKey.labels]?.kind {
            for (k, v) in st.fields { if case let .stringValue(s)? = v.kind { labels[k] = s } }
        }
        let outbound = string(NodeMetadataKey.outbound).flatMap { try? HostPort(parsing: $0) }
        var inbound: [ProxyNode.Inbound] = []
        for spec in (string(NodeMetadataKey.inbound) ?? "").split(separator: ",") {
            if let ib = try? InboundSpec(parsing: String(spec)) { inbound.append(ib) }
        }
        let ips = (string(NodeMetadataKey.instanceIPs) ?? "").split(separator: ",").map(String.init)
        var p = ProxyNode(id: node.id, namespace: string(NodeMetadataKey.namespace) ?? "default", labels: labels,
                          outbound: outbound, inbound: inbound, addresses: ips)
        if !node.locality.region.isEmpty { p.locality = node.locality.path }
        p.userAgent = node.userAgentName
        p.clientFeatures = Set(node.clientFeatures)
        if let sa = string(NodeMetadataKey.serviceAccount) { p.serviceAccount = sa }
        p.admin = string(NodeMetadataKey.admin).flatMap { try? HostPort(parsing: $0) }
        return p
    }
}
