import EnvoyAPI
import SwiftProtobuf
import WeftModel

/// Everything one proxy receives, by xDS type.
public struct ProxyResources: Sendable {
    public var clusters: [Envoy_Config_Cluster_V3_Cluster] = []
    public var endpoints: [Envoy_Config_Endpoint_V3_ClusterLoadAssignment] = []
    public var listeners: [Envoy_Config_Listener_V3_Listener] = []
    public var routes: [Envoy_Config_Route_V3_RouteConfiguration] = []

    public init() {}
}

/// The translation entry point: a pure function of the mesh and the asking proxy.
public enum Translator {
    public static let outboundRouteName = "outbound_http"

    public static func translate(mesh: MeshState, proxy: ProxyNode) -> ProxyResources {
        var out = ProxyResources()
        let clusters = ClusterBuilder(mesh: mesh, proxy: proxy)
        for host in mesh.services.keys.sorted() {
            let (c, e) = clusters.build(service: mesh.services[host]!)
            out.clusters += c
            out.endpoints += e
        }
        let listeners = ListenerBuilder(mesh: mesh, proxy: proxy)
        out.listeners += listeners.outbound()
        let (inboundListeners, inboundClusters) = listeners.inbound()
        out.listeners += inboundListeners
        out.clusters += inboundClusters
        let tracings = [false, true].compactMap { listeners.telemetry(server: $0).tracing }
        if !out.listeners.isEmpty { out.clusters += TracingBuilder.clusters(tracings) }
        if proxy.outbound != nil {
            out.routes.append(RouteBuilder(mesh: mesh, proxy: proxy).outboundRouteConfiguration(name: outboundRouteName))
        }
        return out
    }
}
