import EnvoyAPI
import SwiftProtobuf
import Testing
@testable import XDSClient

/// The client's SotW protocol as a table of responses in and requests out, without sockets.
@Suite struct ADSSessionTests {
    typealias Response = Envoy_Service_Discovery_V3_DiscoveryResponse

    static func response(_ type: String, _ version: String, _ nonce: String, _ items: [any SwiftProtobuf.Message]) throws -> Response {
        var r = Response()
        r.typeURL = type
        r.versionInfo = version
        r.nonce = nonce
        r.resources = try Fixture.pack(items)
        return r
    }

    static func session() -> ADSSession {
        ADSSession(node: ADSClientConfig(controlPlane: .init(host: "127.0.0.1", port: 1), nodeID: "p1").node)
    }

    @Test func opensWithWildcardCDSAndLDSCarryingTheNode() {
        var s = Self.session()
        let out = s.start()
        #expect(out.map(\.typeURL) == [EnvoyTypeURL.cluster, EnvoyTypeURL.listener])
        #expect(out.allSatisfy { $0.resourceNames.isEmpty && $0.responseNonce.isEmpty })
        #expect(out[0].node.id == "p1" && !out[1].hasNode)
    }

    @Test func acksAndFollowsReferences() throws {
        let r = try Fixture.translate()
        var s = Self.session()
        _ = s.start()
        let cds = s.receive(try Self.response(EnvoyTypeURL.cluster, "c1", "1", r.clusters))
        #expect(cds.refusal == nil && cds.snapshot != nil)
        #expect(cds.requests.count == 2)
        #expect(cds.requests[0].typeURL == EnvoyTypeURL.cluster && cds.requests[0].versionInfo == "c1" && cds.requests[0].responseNonce == "1")
        #expect(cds.requests[1].typeURL == EnvoyTypeURL.clusterLoadAssignment)
        #expect(cds.requests[1].resourceNames.contains("outbound|9080|v1|reviews.shop.svc.cluster.local"))
        #expect(!cds.requests[1].resourceNames.contains("outbound|5432||db.example.com"))
        let eds = s.receive(try Self.response(EnvoyTypeURL.clusterLoadAssignment, "e1", "2", r.endpoints))
        #expect(eds.requests.count == 1 && eds.requests[0].responseNonce == "2")
        #expect(eds.requests[0].resourceNames == cds.requests[1].resourceNames)
        let lds = s.receive(try Self.response(EnvoyTypeURL.listener, "l1", "3", r.listeners))
        #expect(lds.requests.map(\.typeURL) == [EnvoyTypeURL.listener, EnvoyTypeURL.routeConfiguration])
        #expect(lds.requests[1].resourceNames == ["outbound_http"])
        // The same clusters again: an ACK only, no new EDS subscription.
        let again = s.receive(try Self.response(EnvoyTypeURL.cluster, "c1", "4", r.clusters))
        #expect(again.requests.count == 1)
    }

    @Test func nackKeepsTheLastGoodVersion() throws {
        let r = try Fixture.translate()
        var s = Self.session()
        _ = s.start()
        _ = s.receive(try Self.response(EnvoyTypeURL.listener, "l1", "1", r.listeners))
        _ = s.receive(try Self.response(EnvoyTypeURL.routeConfiguration, "r1", "2", r.routes))
        let bad = ConversionTests.routeConfig { $0.match.safeRegex.regex = "((" }
        let out = s.receive(try Self.response(EnvoyTypeURL.routeConfiguration, "r2", "3", [bad]))
        #expect(out.snapshot == nil)
        let nack = try #require(out.requests.first)
        #expect(nack.versionInfo == "r1" && nack.responseNonce == "3" && nack.resourceNames == ["outbound_http"])
        #expect(nack.errorDetail.message.contains("virtual_hosts[0].routes[2].match.safe_regex.regex"))
        #expect(s.assembler.snapshot().routeTables["outbound_http"] != nil)
    }

    @Test func reconnectResubscribesWithKnownVersions() throws {
        let r = try Fixture.translate()
        var s = Self.session()
        _ = s.start()
        _ = s.receive(try Self.response(EnvoyTypeURL.cluster, "c1", "1", r.clusters))
        _ = s.receive(try Self.response(EnvoyTypeURL.listener, "l1", "2", r.listeners))
        let out = s.start()
        #expect(out.map(\.typeURL) == [EnvoyTypeURL.cluster, EnvoyTypeURL.clusterLoadAssignment, EnvoyTypeURL.listener,
                                       EnvoyTypeURL.routeConfiguration])
        #expect(out[0].versionInfo == "c1" && out[0].responseNonce.isEmpty && out[0].hasNode)
    }
}
