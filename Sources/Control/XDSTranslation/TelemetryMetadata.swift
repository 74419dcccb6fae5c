import EnvoyAPI
import SwiftProtobuf
import WeftCore
import WeftModel

/// What a proxy needs to label Istio's standard metrics, put where Envoy ignores it and weft proxy reads it:
/// the services behind a cluster (`filter_metadata.istio.services`, Istio's own cluster metadata), the proxy's own
/// workload labels (listener metadata `weft.peer`), and the `x-weft-peer-metadata` header that tells the other
/// sidecar who is calling or answering (PeerMetadata), added and removed on both planes by route configuration.
enum TelemetryMetadata {
    /// This proxy as its peers' metrics name it. The principal is only known under mesh mTLS.
    static func peer(mesh: MeshState, proxy: ProxyNode) -> PeerMetadata {
        let principal = proxy.speaksMeshTLS ? proxy.identity.spiffe(trustDomain: mesh.mutualTLS.trustDomain).uri : nil
        return PeerMetadata(namespace: proxy.namespace, labels: proxy.labels, principal: principal)
    }

    /// Istio's cluster metadata: `istio: {services: [{host, name, namespace}]}`.
    static func cluster(services: [Service]) -> Envoy_Config_Core_V3_Metadata {
        var list = Google_Protobuf_ListValue()
        for s in services {
            var entry = Google_Protobuf_Struct()
            entry.fields[IstioClusterMetadata.host] = Google_Protobuf_Value(stringValue: s.host)
            entry.fields[IstioClusterMetadata.name] = Google_Protobuf_Value(stringValue: s.shortName ?? s.host)
            entry.fields[IstioClusterMetadata.namespace] = Google_Protobuf_Value(stringValue: s.namespace)
            list.values.append(Google_Protobuf_Value(structValue: entry))
        }
        var istio = Google_Protobuf_Struct()
        istio.fields[IstioClusterMetadata.services] = Google_Protobuf_Value(listValue: list)
        var m = Envoy_Config_Core_V3_Metadata()
        m.filterMetadata[IstioClusterMetadata.key] = istio
        return m
    }

    /// The services an inbound listener serves: those with an endpoint at its address, or at the app's.
    static func inboundServices(mesh: MeshState, _ ib: ProxyNode.Inbound) -> [Service] {
        mesh.services.keys.sorted().compactMap { host in
            let s = mesh.services[host]!
            let here = s.endpoints.values.contains { eps in
                eps.contains { ($0.address == ib.listen.host && $0.port == ib.listen.port) || ($0.address == ib.app.host && $0.port == ib.app.port) }
            }
            return here ? s : nil
        }
    }

    /// Outbound to a mesh service: the caller's metadata on every request (replacing what the app sent). The
    /// answering sidecar's is removed from every response by the route configuration.
    static func outbound(_ vh: inout Envoy_Config_Route_V3_VirtualHost, peer: PeerMetadata) {
        vh.requestHeadersToAdd += Proto.headerOptions([PeerMetadata.header: peer.headerValue], overwrite: true)
    }

    /// Inbound: the caller's metadata removed before the app sees the request, this workload's added to responses.
    static func inbound(_ rc: inout Envoy_Config_Route_V3_RouteConfiguration, peer: PeerMetadata) {
        rc.requestHeadersToRemove.append(PeerMetadata.header)
        rc.responseHeadersToAdd += Proto.headerOptions([PeerMetadata.header: peer.headerValue], overwrite: true)
    }
}
