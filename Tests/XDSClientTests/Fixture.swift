import EnvoyAPI
import Foundation
import ProxyConfig
import ProxyRouting
import SwiftProtobuf
import WeftConfig
import WeftCore
import WeftModel
import XDSClient
import XDSTranslation

/// The control plane's real pipeline (decode -> MeshState -> Translator) feeding the proxy's conversion, so
/// tests can say "request X from proxy P lands on cluster C" without sockets.
enum Fixture {
    static let mesh = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: reviews, namespace: shop}
    spec:
      hosts: [reviews.shop.svc.cluster.local]
      ports: [{number: 9080, name: http, protocol: HTTP}]
      resolution: STATIC
      location: MESH_INTERNAL
      workloadSelector: {labels: {app: reviews}}
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: reviews-v1, namespace: shop}
    spec: {address: 10.0.0.1, ports: {http: 8080}, labels: {app: reviews, version: v1}, locality: eu/west-1a}
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: reviews-v2, namespace: shop}
    spec: {address: 10.0.0.2, labels: {app: reviews, version: v2}, weight: 3}
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: reviews, namespace: shop}
    spec:
      host: reviews
      trafficPolicy:
        connectionPool:
          tcp: {maxConnections: 100, connectTimeout: 2s}
          http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 5, maxRetries: 4}
      subsets:
      - name: v1
        labels: {version: v1}
      - name: v2
        labels: {version: v2}
        trafficPolicy:
          loadBalancer:
            consistentHash: {httpHeaderName: x-user}
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews, namespace: shop}
    spec:
      hosts: [reviews]
      http:
      - name: jason
        match:
        - headers: {end-user: {exact: jason}}
        route:
        - destination: {host: reviews, subset: v2}
      - name: old-api
        match:
        - uri: {prefix: /v0/}
        redirect: {uri: /v1/, redirectCode: 308}
      - name: legacy
        match:
        - uri: {prefix: /legacy/}
        rewrite: {uri: /api/}
        route:
        - destination: {host: reviews, subset: v1}
      - name: split
        route:
        - destination: {host: reviews, subset: v1}
          weight: 80
        - destination: {host: reviews, subset: v2}
          weight: 20
        timeout: 3s
        retries: {attempts: 2, perTryTimeout: 1s, retryOn: "gateway-error,503"}
        fault:
          abort: {httpStatus: 503, percentage: {value: 0.1}}
        mirror: {host: reviews, subset: v2}
        mirrorPercentage: {value: 5}
        headers:
          request: {set: {x-mesh: weft}}
    ---
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: db, namespace: shop}
    spec:
      hosts: [db.example.com]
      ports: [{number: 5432, name: tcp-pg, protocol: TCP}]
      resolution: DNS
      location: MESH_EXTERNAL
    """

    /// A weft proxy as it says so in its node (user agent and client features), so it is sent what it takes.
    static let proxy: ProxyNode = {
        var p = ProxyNode(
            id: "productpage-1", namespace: "shop", labels: ["app": "productpage"], outbound: HostPort(host: "127.0.0.1", port: 15001),
            inbound: [.init(listen: HostPort(host: "0.0.0.0", port: 15006), app: HostPort(host: "127.0.0.1", port: 9080))])
        p.userAgent = WeftClientFeature.userAgent
        p.clientFeatures = Set(WeftClientFeature.all)
        return p
    }()

    static func translate(_ text: String = mesh, proxy: ProxyNode = proxy, limits: ListenerLimits = .standard) throws -> ProxyResources {
        var state = MeshState(version: 1, resources: try ResourceDecoder.decode(text: text, file: "fixture.yaml"), workloads: [])
        state.limits = limits
        return Translator.translate(mesh: state, proxy: proxy)
    }

    static func pack(_ messages: [any SwiftProtobuf.Message]) throws -> [Google_Protobuf_Any] {
        try messages.map { try Google_Protobuf_Any(message: $0) }
    }

    /// Feeds the translation through SnapshotAssembler in Envoy's order: CDS, EDS, LDS, RDS.
    static func snapshot(_ text: String = mesh, proxy: ProxyNode = proxy) throws -> ProxySnapshot {
        try assemble(try translate(text, proxy: proxy))
    }

    /// A translation's resources through SnapshotAssembler, in Envoy's order.
    static func assemble(_ r: ProxyResources) throws -> ProxySnapshot {
        var a = SnapshotAssembler()
        try a.apply(typeURL: EnvoyTypeURL.cluster, version: "c1", resources: pack(r.clusters))
        try a.apply(typeURL: EnvoyTypeURL.clusterLoadAssignment, version: "e1", resources: pack(r.endpoints))
        try a.apply(typeURL: EnvoyTypeURL.listener, version: "l1", resources: pack(r.listeners))
        try a.apply(typeURL: EnvoyTypeURL.routeConfiguration, version: "r1", resources: pack(r.routes))
        return a.snapshot()
    }

    static func request(_ authority: String, _ uri: String = "/", headers: [(String, String)] = []) -> RequestView {
        RequestView(method: "GET", uri: uri, authority: authority, headers: HeaderList(headers))
    }
}

extension ProxySnapshot {
    /// The route a request to the outbound listener takes.
    func route(_ r: RequestView) -> (VirtualHost, Route)? {
        guard case let .http(table, _)? = listeners["outbound_http"]?.kind else { return nil }
        return routeTables[table]?.route(for: r)
    }

    /// The forward action of the route a request takes.
    func forward(_ r: RequestView) -> ForwardAction? {
        guard case let .forward(f)? = route(r)?.1.action else { return nil }
        return f
    }
}
