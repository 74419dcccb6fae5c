import Foundation
import Testing
import WeftConfig
import WeftCore
import WeftModel
import WeftRegistry

/// Issue 10's findings on the registry: names follow Kubernetes' rules, and what was stored before the rules got
/// stricter neither stops a start nor is lost.
@Suite struct HardeningTests {
    @Test func registrationNamesFollowKubernetesRules() throws {
        let registry = try MeshRegistry(store: nil, clock: ManualClock())
        for name in ["../../a/b", ".", "..", "Caps", "emoji-😀", String(repeating: "a", count: 254)] {
            let w = RegisteredWorkload(name: name, namespace: "default", addresses: ["10.0.0.1"])
            #expect(throws: DiagnosticError.self, "name \(name)") { try registry.register(w) }
        }
        let badService = RegisteredWorkload(name: "vm", namespace: "default", addresses: ["10.0.0.1"],
                                            services: [RegisteredService(name: "../x", port: 80)])
        #expect(throws: DiagnosticError.self) { try registry.register(badService) }
        let badNamespace = RegisteredWorkload(name: "vm", namespace: "a.b", addresses: ["10.0.0.1"])
        #expect(throws: DiagnosticError.self) { try registry.register(badNamespace) }
        #expect(registry.workloads().isEmpty)
        try registry.register(RegisteredWorkload(name: "vm-1.zone-a", namespace: "default", addresses: ["10.0.0.1"]))
        #expect(registry.workloads().map(\.name) == ["vm-1.zone-a"])
    }

    @Test func resourceNamesDotAndDotDotAreRefused() {
        for name in [".", "..", "a..b", "-a", "a_b"] {
            let text = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: \"\(name)\"}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}"
            #expect(throws: DiagnosticError.self, "name \(name)") { try ResourceDecoder.decode(text: text, file: "f.yaml") }
        }
    }

    @Test func aStoredResourceThatNoLongerValidatesIsReportedAndKeptAsideNotFatal() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try JSONSerialization.jsonObject(with: Data("""
            {"source": "api", "document": "{\\"apiVersion\\":\\"networking.istio.io/v1\\",\\"kind\\":\\"ServiceEntry\\",\\"metadata\\":{\\"name\\":\\"reviews\\"},\\"spec\\":{\\"hosts\\":[\\"reviews.default.svc.cluster.local\\"],\\"ports\\":[{\\"number\\":9080,\\"name\\":\\"http\\",\\"protocol\\":\\"HTTP\\"}],\\"resolution\\":\\"STATIC\\",\\"workloadSelector\\":{\\"labels\\":{\\"app\\":\\"reviews\\"}}}}"}
            """.utf8))
        let old = try JSONSerialization.jsonObject(with: Data("""
            {"source": "api", "document": "{\\"apiVersion\\":\\"networking.istio.io/v1\\",\\"kind\\":\\"ServiceEntry\\",\\"metadata\\":{\\"name\\":\\"..\\"},\\"spec\\":{\\"hosts\\":[\\"x.example.com\\"],\\"ports\\":[{\\"number\\":80,\\"name\\":\\"http\\",\\"protocol\\":\\"HTTP\\"}],\\"resolution\\":\\"DNS\\"}}"}
            """.utf8))
        let store = try JSONSerialization.data(withJSONObject: ["resources": [good, old], "workloads": []])
        try store.write(to: dir.appendingPathComponent("store.json"))
        let registry = try MeshRegistry(store: FileStore(directory: dir), clock: ManualClock())
        #expect(registry.resources().map(\.key.name) == ["reviews"])
        #expect(registry.errors().count == 1, "\(registry.errors())")
        #expect(registry.errors().first?.message.contains("kept in store-refused.json") == true)
        let aside = try String(contentsOf: dir.appendingPathComponent("store-refused.json"), encoding: .utf8)
        #expect(aside.contains("x.example.com"))
    }
}
