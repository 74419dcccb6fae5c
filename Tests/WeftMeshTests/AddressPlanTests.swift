import Testing
import WeftCore
@testable import WeftMesh

@Test func givesEachWorkloadItsOwnAddress() throws {
    let spec = try MeshDecoder.decode(text: threeServices, file: "mesh.yaml")
    let plans = AddressPlan.workloads(spec, ipv6: false)
    #expect(plans.map(\.name) == ["front", "reviews-v1", "reviews-v2-1", "reviews-v2-2", "ratings"])
    #expect(plans.map(\.address) == ["127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15"])
    let p = plans[1]
    #expect(p.sidecarArguments(controlPlane: HostPort(host: "127.0.0.1", port: 15010)) == [
        "proxy", "--node", "reviews-v1.default", "--namespace", "default", "--labels", "app=reviews,version=v1",
        "--service-account", "reviews", "--control-plane", "127.0.0.1:15010", "--outbound", "127.0.0.12:15001", "--admin", "127.0.0.12:15000",
        "--concurrency", "1", "--drain-seconds", "1", "--inbound", "127.0.0.12:9080=127.0.0.12:19080=http",
    ])
    let env = p.appEnvironment()
    #expect(env["HTTP_PROXY"] == "http://127.0.0.12:15001")
    #expect(env["WEFT_LISTEN"] == "127.0.0.12:19080")
    #expect(env["PORT"] == "19080")
    #expect(env["WEFT_VERSION"] == "v1")
    #expect(plans[2].appEnvironment()["GREETING"] == "hi")
}

@Test func ipv6UsesOwnAddressesOrSharedLoopback() throws {
    let spec = try MeshDecoder.decode(text: threeServices, file: "mesh.yaml")
    let own = AddressPlan.workloads(spec, ipv6: true)
    #expect(own[0].address == "fd77:6566:74::11")
    #expect(own[0].appEnvironment()["HTTP_PROXY"] == "http://[fd77:6566:74::11]:15001")
    let shared = AddressPlan.workloads(spec, ipv6: true, sharedIPv6: true)
    #expect(Set(shared.map(\.address)) == ["::1"])
    #expect(shared[1].services[0].port == 9080)
    #expect(shared[1].services[0].inboundPort == 20004)
    #expect(shared[1].appPort == 20005)
    #expect(Set(shared.flatMap { [$0.services[0].inboundPort, $0.appPort, $0.outbound.port, $0.admin.port] }).count == 20)
}

@Test func backoffDoublesUpToTheCapAndResetsAfterAStableRun() {
    var b = Backoff(initial: 0.5, max: 4, stableAfter: 10)
    #expect([b.next(ranFor: 1), b.next(ranFor: 1), b.next(ranFor: 1), b.next(ranFor: 1), b.next(ranFor: 1)] == [0.5, 1, 2, 4, 4])
    #expect(b.next(ranFor: 30) == 0.5)
}
