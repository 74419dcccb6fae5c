import EnvoyAPI
import Foundation
import SwiftProtobuf
import Testing
import WeftConfig
import WeftCore
import WeftModel
import XDSTranslation

/// Golden files: the translation of a fixed mesh for a fixed proxy, as sorted JSON. Run with
/// WEFT_UPDATE_GOLDEN=1 to rewrite them, then review the diff like code.
@Suite struct GoldenTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

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
    spec: {address: "fd00::2", labels: {app: reviews, version: v2}, weight: 3}
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: reviews, namespace: shop}
    spec:
      host: reviews
      trafficPolicy:
        loadBalancer: {simple: LEAST_REQUEST}
        connectionPool:
          tcp: {maxConnections: 100, connectTimeout: 2s}
          http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 5, maxRetries: 3}
        outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50, minHealthPercent: 20}
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
        - queryParams: {canary: {exact: "1"}}
        route:
        - destination: {host: reviews, subset: v2}
      - name: old-api
        match:
        - uri: {prefix: /v0/}
        redirect: {uri: /v1/, redirectCode: 308}
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

    static func translate() throws -> ProxyResources {
        let resources = try ResourceDecoder.decode(text: mesh, file: "golden.yaml")
        let workloads = [RegisteredWorkload(name: "vm-7", namespace: "shop", addresses: ["10.0.0.7"],
                                            services: [RegisteredService(name: "ratings", port: 9080, targetPort: 18080)])]
        let state = MeshState(version: 1, resources: resources, workloads: workloads)
        let proxy = ProxyNode(id: "productpage-1", namespace: "shop", labels: ["app": "productpage"],
                              outbound: HostPort(host: "127.0.0.1", port: 15001),
                              inbound: [.init(listen: HostPort(host: "0.0.0.0", port: 15006), app: HostPort(host: "127.0.0.1", port: 9080))])
        return Translator.translate(mesh: state, proxy: proxy)
    }

    static func json(_ messages: [any SwiftProtobuf.Message]) throws -> String {
        let parsed = try messages.map { m -> Any in
            try JSONSerialization.jsonObject(with: Data(m.jsonString().utf8))
        }
        let data = try JSONSerialization.data(withJSONObject: parsed, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    @Test(arguments: ["clusters", "endpoints", "listeners", "routes"])
    func matchesGolden(_ kind: String) throws {
        let r = try Self.translate()
        let messages: [any SwiftProtobuf.Message] = switch kind {
        case "clusters": r.clusters
        case "endpoints": r.endpoints
        case "listeners": r.listeners
        default: r.routes
        }
        let actual = try Self.json(messages)
        let file = Self.here.appendingPathComponent("Golden/\(kind).json")
        if ProcessInfo.processInfo.environment["WEFT_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(actual == expected, "translation of \(kind) changed; rerun with WEFT_UPDATE_GOLDEN=1 and review the diff")
    }

    @Test func translationIsPure() throws {
        let a = try Self.json(Self.translate().routes)
        let b = try Self.json(Self.translate().routes)
        #expect(a == b)
    }

    @Test func sourceLabelsScopeRoutesToTheCaller() throws {
        let text = Self.mesh + """

        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: db, namespace: shop}
        spec:
          hosts: [ratings]
          http:
          - match: [{sourceLabels: {app: reviews}}]
            route: [{destination: {host: ratings}}]
            fault: {delay: {fixedDelay: 2s, percentage: {value: 100}}}
          - route: [{destination: {host: ratings}}]
        """
        let state = MeshState(version: 1, resources: try ResourceDecoder.decode(text: text, file: "x.yaml"),
                              workloads: [RegisteredWorkload(name: "vm", namespace: "shop", addresses: ["10.0.0.7"],
                                                             services: [RegisteredService(name: "ratings", port: 9080)])])
        func routes(for app: String) -> Int {
            let p = ProxyNode(id: app, namespace: "shop", labels: ["app": app], outbound: HostPort(host: "127.0.0.1", port: 15001))
            let rc = Translator.translate(mesh: state, proxy: p).routes[0]
            return rc.virtualHosts.first { $0.name == "ratings.shop.svc.cluster.local:9080" }!.routes.count
        }
        #expect(routes(for: "reviews") == 2)
        #expect(routes(for: "productpage") == 1)
    }
}
