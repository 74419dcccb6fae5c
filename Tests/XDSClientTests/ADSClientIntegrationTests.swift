import EnvoyAPI
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ProxyConfig
import ProxyRouting
import Testing
import WeftConfig
import WeftCore
import WeftModel
import XDSClient
import XDSServer

/// ADSClient against the real control-plane ADS server in-process, on loopback port 0.
@Suite struct ADSClientIntegrationTests {
    // The suite's time limit is the only deadline: each step waits for its snapshot, never for a timer.
    @Test(.timeLimit(.minutes(1))) func receivesAndFollowsConfigFromTheRealServer() async throws {
        let hub = SnapshotHub()
        let book = ProxyStatusBook()
        hub.publish(MeshState(version: 1, resources: try ResourceDecoder.decode(text: Fixture.mesh, file: "m.yaml"), workloads: []))
        let logger = Logger(label: "xds-client-test")
        let server = GRPCServer(transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
                                services: [AggregatedDiscoveryServer(hub: hub, book: book, logger: logger)])
        let (snapshots, feed) = AsyncStream.makeStream(of: ProxySnapshot.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            let port = try #require(try await server.transport.listeningAddress.ipv4?.port)
            let config = ADSClientConfig(controlPlane: HostPort(host: "127.0.0.1", port: port), nodeID: "productpage-1",
                                         namespace: "shop", labels: ["app": "productpage"], outbound: HostPort(host: "127.0.0.1", port: 15001))
            let client = ADSClient(config: config, logger: logger) { feed.yield($0) }
            group.addTask { await client.run() }
            let v1 = "outbound|9080|v1|reviews.shop.svc.cluster.local"
            var complete: ProxySnapshot?
            for await s in snapshots where s.routeTables["outbound_http"] != nil && s.clusters[v1]?.endpoints.isEmpty == false {
                complete = s
                break
            }
            let s = try #require(complete)
            let f = try #require(s.forward(Fixture.request("reviews", "/", headers: [("end-user", "jason")])))
            #expect(f.clusters.map(\.name) == ["outbound|9080|v2|reviews.shop.svc.cluster.local"])
            #expect(client.status.connected && client.status.lastNACK == nil)
            #expect(s.versions.count == 4)

            // A new endpoint reaches the proxy as a new snapshot.
            let more = Fixture.mesh + """

            ---
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: reviews-v1b, namespace: shop}
            spec: {address: 10.0.0.3, labels: {app: reviews, version: v1}}
            """
            hub.publish(MeshState(version: 2, resources: try ResourceDecoder.decode(text: more, file: "m.yaml"), workloads: []))
            var updated = false
            for await s in snapshots where s.clusters[v1]?.endpoints.count == 2 {
                updated = true
                break
            }
            #expect(updated)
            group.cancelAll()
            server.beginGracefulShutdown()
        }
    }
}

extension ADSClientIntegrationTests {
    @Test(.timeLimit(.minutes(1))) func unreachableControlPlaneIsReportedAndRetried() async throws {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let config = ADSClientConfig(controlPlane: HostPort(host: "127.0.0.1", port: 1), nodeID: "p", initialBackoff: .milliseconds(10),
                                     maxBackoff: .milliseconds(20))
        let client = ADSClient(config: config, logger: Logger(label: "xds-client-test")) { _ in Issue.record("no snapshot expected") }
        let task = Task { await client.run() }
        while client.status.lastError == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!client.status.connected)
        task.cancel()
        await task.value
    }
}
