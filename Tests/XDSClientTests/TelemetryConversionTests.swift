import EnvoyAPI
import ProxyConfig
import SwiftProtobuf
import Testing
import WeftCore
import WeftModel
@testable import XDSClient

/// The labels of Istio's standard metrics, from the control plane's translation to weft proxy's snapshot: the
/// proxy's own workload on its listeners, the services behind each cluster, and the peer header added to requests
/// (outbound) and responses (inbound) and removed before apps see the other side's.
@Suite struct TelemetryConversionTests {
    static var proxy: ProxyNode {
        var p = Fixture.proxy
        p.labels = ["app": "front", "version": "v2"]
        p.namespace = "shop"
        return p
    }

    @Test func listenersCarryTheProxysWorkloadAndReporter() throws {
        let s = try Fixture.snapshot(proxy: Self.proxy)
        let out = try #require(s.listeners["outbound_http"]?.telemetry)
        #expect(out.reporter == .source)
        #expect(out.own == PeerMetadata(workload: "front-v2", namespace: "shop", app: "front", version: "v2"))
    }

    @Test func clustersNameTheirService() throws {
        let s = try Fixture.snapshot(proxy: Self.proxy)
        let want = [ServiceRef(host: "reviews.shop.svc.cluster.local", name: "reviews", namespace: "shop")]
        #expect(s.clusters["outbound|9080||reviews.shop.svc.cluster.local"]?.services == want)
        #expect(s.clusters["outbound|9080|v1|reviews.shop.svc.cluster.local"]?.services == want)
    }

    @Test func outboundRequestsCarryThePeerHeaderAndResponsesLoseTheCallees() throws {
        let r = try Fixture.translate(proxy: Self.proxy)
        let rc = try #require(r.routes.first { $0.name == "outbound_http" })
        let vh = try #require(rc.virtualHosts.first { $0.name == "reviews.shop.svc.cluster.local:9080" })
        let added = vh.requestHeadersToAdd.first { $0.header.key == PeerMetadata.header }
        #expect(added?.header.value == "workload=front-v2;namespace=shop;app=front;version=v2;principal=unknown")
        #expect(added?.appendAction == .overwriteIfExistsOrAdd)
        #expect(rc.responseHeadersToRemove == [PeerMetadata.header])
        #expect(rc.requestHeadersToAdd.isEmpty)
    }

    @Test func malformedMetadataIsRefusedWithItsPath() throws {
        var c = Envoy_Config_Cluster_V3_Cluster()
        c.name = "x"
        c.type = .static
        var istio = Google_Protobuf_Struct()
        istio.fields["services"] = Google_Protobuf_Value(stringValue: "reviews")
        c.metadata.filterMetadata["istio"] = istio
        #expect(throws: XDSConversionError.self) { try XDSConversion.cluster(c) }
        do { _ = try XDSConversion.cluster(c) } catch {
            #expect("\(error)".contains("metadata.filter_metadata.istio.services"))
        }
    }

    @Test(arguments: [
        ("workload=a;namespace=b;app=c;version=d;principal=spiffe://td/ns/b/sa/e",
         PeerMetadata(workload: "a", namespace: "b", app: "c", version: "d", principal: "spiffe://td/ns/b/sa/e")),
        ("namespace=x;future=1", PeerMetadata(namespace: "x")),
        ("", PeerMetadata()),
        ("workload=a%3Bb%3Dc%25", PeerMetadata(workload: "a;b=c%")),
    ])
    func peerHeaderValues(_ text: String, _ want: PeerMetadata) {
        #expect(PeerMetadata(headerValue: text) == want)
        #expect(PeerMetadata(headerValue: want.headerValue) == want)
    }
}

/// The caller's metadata goes to mesh services only: a MESH_EXTERNAL host gets no `x-weft-peer-metadata`, and
/// one the app set itself is removed.
@Suite struct PeerHeaderScopeTests {
    @Test func externalHostsDoNotGetThePeerHeader() throws {
        let ext = Fixture.mesh + """

        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: api, namespace: shop}
        spec:
          hosts: [api.example.com]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: DNS
          location: MESH_EXTERNAL
        """
        let r = try Fixture.translate(ext)
        let rc = try #require(r.routes.first { $0.name == "outbound_http" })
        let vh = try #require(rc.virtualHosts.first { $0.name == "api.example.com:80" })
        #expect(!vh.requestHeadersToAdd.contains { $0.header.key == PeerMetadata.header })
        #expect(vh.requestHeadersToRemove == [PeerMetadata.header])
    }
}
