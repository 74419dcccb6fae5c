import Foundation
import Synchronization
import Testing
import WeftConfig
import WeftCore
import WeftModel
import WeftRegistry

/// A clock the test moves by hand.
final class ManualClock: WallClock {
    let time = Mutex(1_000.0)
    func now() -> Double { time.withLock { $0 } }
    func advance(_ s: Double) { time.withLock { $0 += s } }
}

let service = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews}
spec:
  hosts: [reviews.default.svc.cluster.local]
  ports: [{number: 9080, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: reviews}}
"""

func route(_ subset: String, weight: Int = 100) -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews}
    spec:
      hosts: [reviews]
      http:
      - route:
        - destination: {host: reviews}
          weight: \(weight)
    """
}

func tempDir() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("weft-test-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct RegistryTests {
    @Test func workloadExpiresWhenTTLPassesWithoutHeartbeat() throws {
        let clock = ManualClock()
        let registry = try MeshRegistry(store: nil, clock: clock)
        try registry.apply(text: service, source: "api")
        try registry.register(RegisteredWorkload(name: "vm-1", namespace: "default", addresses: ["10.0.0.7", "192.168.1.7"],
                                                 labels: ["app": "reviews"], ports: ["http": 8080], ttlSeconds: 10))
        #expect(registry.meshState().endpoints(host: "reviews.default.svc.cluster.local", port: 9080).map(\.address) == ["10.0.0.7"])
        clock.advance(8)
        #expect(registry.heartbeat(namespace: "default", name: "vm-1"))
        clock.advance(8)
        #expect(registry.expire().isEmpty, "a heartbeat renews the TTL")
        clock.advance(3)
        #expect(registry.expire() == ["default/vm-1"])
        #expect(registry.meshState().endpoints(host: "reviews.default.svc.cluster.local", port: 9080).isEmpty)
        #expect(!registry.heartbeat(namespace: "default", name: "vm-1"))
    }

    @Test func registeredServiceStaysDeclaredAfterItsWorkloadLeaves() throws {
        let registry = try MeshRegistry(store: nil, clock: ManualClock())
        try registry.register(RegisteredWorkload(name: "p1", namespace: "default", addresses: ["127.0.0.9"],
                                                 services: [RegisteredService(name: "ratings", port: 9080, targetPort: 18080),
                                                            RegisteredService(name: "details", port: 9090)]))
        let mesh = registry.meshState()
        #expect(mesh.endpoints(host: "ratings.default.svc.cluster.local", port: 9080).map(\.port) == [18080])
        #expect(mesh.endpoints(host: "details.default.svc.cluster.local", port: 9090).map(\.port) == [9090])
        #expect(registry.deregister(namespace: "default", name: "p1"))
        let after = registry.meshState()
        #expect(after.services["ratings.default.svc.cluster.local"] != nil)
        #expect(after.endpoints(host: "ratings.default.svc.cluster.local", port: 9080).isEmpty)
    }

    @Test func refusesBadRegistration() throws {
        let registry = try MeshRegistry(store: nil, clock: ManualClock())
        let bad = RegisteredWorkload(name: "vm", namespace: "default", addresses: ["not-an-ip"], ports: ["http": 0])
        #expect(throws: DiagnosticError.self) { try registry.register(bad) }
        #expect(registry.workloads().isEmpty)
    }

    @Test func refusedApplyChangesNothing() throws {
        let registry = try MeshRegistry(store: nil, clock: ManualClock())
        try registry.apply(text: service + "\n---\n" + route("v1"), source: "a.yaml")
        let version = registry.version
        #expect(throws: DiagnosticError.self) { try registry.apply(text: route("v1", weight: -50), source: "b.yaml") }
        let ghost = route("v1").replacingOccurrences(of: "{host: reviews}", with: "{host: ghost}")
        #expect(throws: DiagnosticError.self) { try registry.apply(text: ghost, source: "c.yaml") }
        #expect(registry.version == version)
        #expect(registry.resources().map(\.source) == ["a.yaml", "a.yaml"])
    }

    @Test func storeSurvivesRestart() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let registry = try MeshRegistry(store: FileStore(directory: dir), clock: ManualClock())
            try registry.apply(text: service + "\n---\n" + route("v1"), source: "a.yaml")
            try registry.register(RegisteredWorkload(name: "vm", namespace: "default", addresses: ["10.1.1.1"], labels: ["app": "reviews"], ttlSeconds: 30))
        }
        let again = try MeshRegistry(store: FileStore(directory: dir), clock: ManualClock())
        #expect(Set(again.resources().map(\.key.name)) == ["reviews"])
        #expect(again.resources().count == 2)
        #expect(again.workloads().map(\.name) == ["vm"])
    }

    @Test func refusedFileKeepsItsLastGoodContent() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = ConfigFolder(directory: dir)
        let registry = try MeshRegistry(store: nil, clock: ManualClock())
        try (service + "\n---\n" + route("v1")).write(to: dir.appendingPathComponent("mesh.yaml"), atomically: true, encoding: .utf8)
        registry.reload(folder: folder.read())
        #expect(registry.resources().count == 2 && registry.errors().isEmpty)
        try (service + "\n---\n" + route("v1", weight: -50)).write(to: dir.appendingPathComponent("mesh.yaml"), atomically: true, encoding: .utf8)
        registry.reload(folder: folder.read())
        #expect(registry.resources().count == 2)
        #expect(registry.errors().map(\.path) == ["spec.http[0].route[0].weight"])
        #expect(registry.errors().first?.file == "mesh.yaml")
    }

    @Test func apiResourceOverridesTheFileUntilDeleted() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try (service + "\n---\n" + route("v1")).write(to: dir.appendingPathComponent("mesh.yaml"), atomically: true, encoding: .utf8)
        let registry = try MeshRegistry(store: nil, clock: ManualClock())
        registry.reload(folder: ConfigFolder(directory: dir).read())
        let override = route("v1").replacingOccurrences(of: "weight: 100", with: "weight: 100\n    timeout: 2s")
        try registry.apply(text: override, source: "api")
        let vs = registry.resources().filter { $0.key.kind == .VirtualService }
        #expect(vs.map(\.source) == ["api"])
        #expect(try registry.delete(vs[0].key))
        #expect(registry.resources().filter { $0.key.kind == .VirtualService }.map(\.source) == ["mesh.yaml"])
    }
}
