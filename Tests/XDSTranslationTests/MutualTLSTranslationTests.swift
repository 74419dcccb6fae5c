import EnvoyAPI
import SwiftProtobuf
import Testing
import WeftConfig
import WeftCore
import WeftModel
import XDSTranslation

/// PeerAuthentication on inbound listeners, auto mTLS and DestinationRule TLS on clusters, as Envoy gets them.
@Suite struct MutualTLSTranslationTests {
    static let mesh = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: api}
    spec:
      hosts: [api.default.svc.cluster.local]
      ports: [{number: 80, name: http, protocol: HTTP}]
      resolution: STATIC
      workloadSelector: {labels: {app: api}}
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: with-sidecar}
    spec: {address: 10.0.0.1, labels: {app: api, security.istio.io/tlsMode: istio}, serviceAccount: api-sa}
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: without}
    spec: {address: 10.0.0.2, labels: {app: api}}
    """

    static func state(_ extra: String = "") throws -> MeshState {
        try MeshState(version: 1, resources: ResourceDecoder.decode(text: mesh + "\n" + extra, file: "t.yaml"), workloads: [])
    }

    static let server = ProxyNode(id: "s", namespace: "default", labels: ["app": "api"],
                                  inbound: [.init(listen: HostPort(host: "10.0.0.1", port: 8080), app: HostPort(host: "127.0.0.1", port: 9080))])

    static func transports(_ mesh: MeshState) -> [String] {
        let l = Translator.translate(mesh: mesh, proxy: server).listeners.first { $0.name.hasPrefix("inbound|") }!
        return l.filterChains.map { $0.filterChainMatch.transportProtocol }
    }

    @Test(arguments: [
        ("", ["tls", "raw_buffer"]),  // PERMISSIVE by default
        ("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n", ["tls"]),
        ("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default}\nspec: {mtls: {mode: DISABLE}}\n", [""]),
        // The workload policy wins over the namespace's; its port-level mode over both.
        ("apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default}\nspec: {mtls: {mode: STRICT}}\n---\n"
         + "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: api}\nspec: {selector: {matchLabels: {app: api}}, mtls: {mode: DISABLE}}\n",
         [""]),
        ("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: api}\n"
         + "spec: {selector: {matchLabels: {app: api}}, mtls: {mode: DISABLE}, portLevelMtls: {8080: {mode: STRICT}}}\n", ["tls"]),
        // UNSET inherits from the mesh.
        ("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n---\n"
         + "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default}\nspec: {mtls: {mode: UNSET}}\n", ["tls"]),
    ])
    func inboundChainsFollowPeerAuthentication(policy: String, expected: [String]) throws {
        #expect(Self.transports(try Self.state(policy.isEmpty ? "" : "---\n" + policy)) == expected)
    }

    @Test func autoMTLSMarksOnlyWorkloadsWithSidecarsAndChecksTheirIdentity() throws {
        let r = Translator.translate(mesh: try Self.state(), proxy: ProxyNode(id: "c", namespace: "default"))
        let cluster = try #require(r.clusters.first { $0.name == "outbound|80||api.default.svc.cluster.local" })
        #expect(cluster.transportSocketMatches.count == 1)
        let ctx = try Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext(
            unpackingAny: cluster.transportSocketMatches[0].transportSocket.typedConfig)
        let sans = ctx.commonTlsContext.combinedValidationContext.defaultValidationContext.matchTypedSubjectAltNames
        #expect(sans.map(\.matcher.exact) == ["spiffe://cluster.local/ns/default/sa/api-sa", "spiffe://cluster.local/ns/default/sa/default"])
        #expect(ctx.sni == "outbound_.80_._.api.default.svc.cluster.local")
        let la = try #require(r.endpoints.first { $0.clusterName == cluster.name })
        let marked = la.endpoints.flatMap(\.lbEndpoints).map { ($0.endpoint.address.socketAddress.address, $0.hasMetadata) }
        #expect(marked.map(\.0) == ["10.0.0.1", "10.0.0.2"] && marked.map(\.1) == [true, false])
    }

    @Test func destinationRuleTLSModes() throws {
        func cluster(_ mode: String) throws -> Envoy_Config_Cluster_V3_Cluster {
            let dr = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: api}\nspec: {host: api, trafficPolicy: {tls: {mode: \(mode)}}}\n"
            return try #require(Translator.translate(mesh: try Self.state(dr), proxy: ProxyNode(id: "c")).clusters.first { $0.name.contains("api") })
        }
        let disabled = try cluster("DISABLE")
        #expect(!disabled.hasTransportSocket && disabled.transportSocketMatches.isEmpty)
        let always = try cluster("ISTIO_MUTUAL")
        #expect(always.hasTransportSocket && always.transportSocketMatches.isEmpty)
    }

    @Test func anOlderWeftProxyGetsPlaintextOnly() throws {
        var weft = Self.server
        weft.userAgent = WeftClientFeature.userAgent
        weft.clientFeatures = Set(WeftClientFeature.all)
        let r = Translator.translate(mesh: try Self.state(), proxy: weft)
        #expect(r.listeners.allSatisfy { $0.listenerFilters.isEmpty && $0.filterChains.count == 1 })
        #expect(r.clusters.allSatisfy { $0.transportSocketMatches.isEmpty })
        weft.clientFeatures.insert(WeftClientFeature.meshTLS)
        #expect(Self.transports(try Self.state()) == ["tls", "raw_buffer"])
    }
}
