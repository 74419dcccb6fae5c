import EnvoyAPI
import Testing
import WeftConfig
import WeftCore
import WeftModel
@testable import XDSServer

typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest

func mesh(version: Int, subset: String) throws -> MeshState {
    let text = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: reviews}
    spec:
      hosts: [reviews.default.svc.cluster.local]
      ports: [{number: 9080, name: http, protocol: HTTP}]
      resolution: STATIC
      endpoints: [{address: 10.0.0.1, labels: {version: v1}}, {address: 10.0.0.2, labels: {version: v2}}]
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: reviews}
    spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews}
    spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: \(subset)}}]}]}
    """
    return MeshState(version: version, resources: try ResourceDecoder.decode(text: text, file: "m.yaml"), workloads: [])
}

func request(_ type: String, names: [String] = [], version: String = "", nonce: String = "", error: String? = nil) -> Request {
    var r = Request()
    r.typeURL = type
    r.resourceNames = names
    r.versionInfo = version
    r.responseNonce = nonce
    var node = Envoy_Config_Core_V3_Node()
    node.id = "sidecar-1"
    node.metadata.fields[NodeMetadataKey.outbound] = .init(stringValue: "127.0.0.1:15001")
    r.node = node
    if let error {
        var s = Google_Rpc_Status()
        s.message = error
        r.errorDetail = s
    }
    return r
}

@Suite struct ADSStreamStateTests {
    let cds = EnvoyTypeURL.cluster, lds = EnvoyTypeURL.listener, rds = EnvoyTypeURL.routeConfiguration, eds = EnvoyTypeURL.clusterLoadAssignment

    @Test func firstRequestGetsEverythingThenACKsAreQuiet() throws {
        var s = ADSStreamState()
        _ = s.onMesh(try mesh(version: 1, subset: "v1"))
        let (r1, e1) = s.onRequest(request(cds))
        #expect(r1.count == 1 && r1[0].resources.count == 3)
        #expect(e1.first == .connected(NodeDecoder.decode(request(cds).node)))
        let (r2, e2) = s.onRequest(request(cds, version: r1[0].versionInfo, nonce: r1[0].nonce))
        #expect(r2.isEmpty)
        #expect(e2 == [.acked(type: cds, version: r1[0].versionInfo), .synced(meshVersion: 1)])
    }

    @Test func syncedOncePerMeshVersionWhenEveryResponseIsAnswered() throws {
        var s = ADSStreamState()
        _ = s.onMesh(try mesh(version: 1, subset: "v1"))
        let (c, ec) = s.onRequest(request(cds))
        #expect(!ec.contains(.synced(meshVersion: 1)), "CDS still waits for its answer")
        let (l, el) = s.onRequest(request(lds))
        #expect(!el.contains(.synced(meshVersion: 1)))
        let (_, a1) = s.onRequest(request(cds, version: c[0].versionInfo, nonce: c[0].nonce))
        #expect(a1 == [.acked(type: cds, version: c[0].versionInfo)], "LDS still waits")
        let (_, a2) = s.onRequest(request(lds, version: l[0].versionInfo, nonce: l[0].nonce))
        #expect(a2 == [.acked(type: lds, version: l[0].versionInfo), .synced(meshVersion: 1)])
        // A version that changes nothing for this proxy is in sync at once; one that does waits for its ACK.
        let (none, e3) = s.onMesh(try mesh(version: 3, subset: "v1"))
        #expect(none.isEmpty && e3 == [.synced(meshVersion: 3)])
        _ = s.onRequest(request(rds, names: ["outbound_http"]))
        let (pushed, e4) = s.onMesh(try mesh(version: 4, subset: "v2"))
        #expect(!pushed.isEmpty && !e4.contains(.synced(meshVersion: 4)))
    }

    @Test func namedSubscriptionsGetOnlyWhatTheyAskFor() throws {
        var s = ADSStreamState()
        _ = s.onMesh(try mesh(version: 1, subset: "v1"))
        let (r, _) = s.onRequest(request(eds, names: ["outbound|9080|v2|reviews.default.svc.cluster.local"]))
        #expect(r.count == 1 && r[0].resources.count == 1)
        let (none, _) = s.onRequest(request(rds, names: ["nothing-here"]))
        #expect(none.count == 1 && none[0].resources.isEmpty)
    }

    @Test func changePushesOnlyTypesWhoseContentChanged() throws {
        var s = ADSStreamState()
        _ = s.onMesh(try mesh(version: 1, subset: "v1"))
        for t in [cds, lds] { _ = s.onRequest(request(t)) }
        _ = s.onRequest(request(rds, names: ["outbound_http"]))
        let (pushed, _) = s.onMesh(try mesh(version: 2, subset: "v2"))
        #expect(pushed.map(\.typeURL) == [rds], "only the route changed")
        let (again, _) = s.onMesh(try mesh(version: 3, subset: "v2"))
        #expect(again.isEmpty, "same content, no push")
    }

    @Test func nackIsRecordedAndNotResent() throws {
        var s = ADSStreamState()
        _ = s.onMesh(try mesh(version: 1, subset: "v1"))
        let (r, _) = s.onRequest(request(lds))
        let (after, events) = s.onRequest(request(lds, version: "", nonce: r[0].nonce, error: "bad listener"))
        #expect(after.isEmpty)
        #expect(events == [.nacked(type: lds, version: r[0].versionInfo, message: "bad listener"), .synced(meshVersion: 1)],
                "a refused version is answered: the proxy keeps its last good config, and the NACK is in the status")
    }

    @Test func staleNoncesAreIgnored() throws {
        var s = ADSStreamState()
        _ = s.onMesh(try mesh(version: 1, subset: "v1"))
        _ = s.onRequest(request(rds, names: ["outbound_http"]))
        let (pushed, _) = s.onMesh(try mesh(version: 2, subset: "v2"))
        let (r, e) = s.onRequest(request(rds, names: ["outbound_http"], version: "old", nonce: "1"))
        #expect(pushed.count == 1 && pushed[0].nonce == "2")
        #expect(r.isEmpty && e.isEmpty)
    }

    @Test func clusterChangeAlsoResendsEndpoints() throws {
        var s = ADSStreamState()
        _ = s.onMesh(try mesh(version: 1, subset: "v1"))
        let (c, _) = s.onRequest(request(cds))
        _ = s.onRequest(request(cds, version: c[0].versionInfo, nonce: c[0].nonce))
        let names = ["outbound|9080|v1|reviews.default.svc.cluster.local"]
        let (e, _) = s.onRequest(request(eds, names: names))
        _ = s.onRequest(request(eds, names: names, version: e[0].versionInfo, nonce: e[0].nonce))
        // A DestinationRule policy change alters the clusters but not their endpoints.
        var changed = try mesh(version: 2, subset: "v1")
        let policy = try ResourceDecoder.decode(text: """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews}
        spec:
          host: reviews
          trafficPolicy: {connectionPool: {tcp: {maxConnections: 2}}}
          subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
        """, file: "dr.yaml")
        changed = MeshState(version: 2, resources: changed.resources.filter { $0.key.kind != .DestinationRule } + policy, workloads: [])
        let (pushed, _) = s.onMesh(changed)
        #expect(pushed.map(\.typeURL) == [cds, eds], "Envoy keeps updated clusters warming until EDS is sent again")
    }
}
