import Foundation
import Synchronization
import Testing
import WeftConfig
import WeftCore
import WeftModel
import WeftRegistry

/// The registry's store protocol: what reaches a store, what a failing store refuses, and that a slow store
/// never holds up readers.
@Suite struct StoreTests {
    let vm = RegisteredWorkload(name: "vm", namespace: "default", addresses: ["10.1.1.1"], labels: ["app": "reviews"], ttlSeconds: 30)

    @Test func acceptedChangesAreSavedRefusedOnesAreNot() throws {
        let store = MemoryStore()
        let registry = try MeshRegistry(store: store, clock: ManualClock())
        try registry.apply(text: service, source: "a.yaml")
        #expect(store.saves == 1 && store.state.resources.map(\.key.name) == ["reviews"])
        // A route to an undeclared host is refused by validation: the store is not touched.
        #expect(throws: DiagnosticError.self) { try registry.apply(text: route("v1").replacingOccurrences(of: "host: reviews", with: "host: nowhere"), source: "b.yaml") }
        #expect(store.saves == 1)
        try registry.register(vm)
        #expect(store.saves == 2 && store.state.workloads.map(\.name) == ["vm"])
        // A heartbeat is neither stored nor a new version.
        let version = registry.version
        #expect(registry.heartbeat(namespace: "default", name: "vm"))
        #expect(store.saves == 2 && registry.version == version)
        // A registry started on the same store has what was saved.
        let again = try MeshRegistry(store: store, clock: ManualClock())
        #expect(again.resources().map(\.key.name) == ["reviews"] && again.workloads().map(\.name) == ["vm"])
    }

    @Test func aFailingStoreRefusesAUsersChangeAndKeepsTheRunningConfig() throws {
        let store = MemoryStore()
        let registry = try MeshRegistry(store: store, clock: ManualClock())
        try registry.apply(text: service, source: "a.yaml")
        let before = registry.meshState()
        store.failSaves("disk full")
        do {
            try registry.apply(text: route("v1"), source: "b.yaml")
            Issue.record("an apply the store could not keep was accepted")
        } catch {
            #expect(error.diagnostics.map(\.path) == ["store"])
            #expect(error.description.contains("disk full"))
        }
        #expect(registry.meshState().version == before.version)
        #expect(registry.resources() == before.resources)
        #expect(throws: DiagnosticError.self) { try registry.register(vm) }
        #expect(registry.workloads().isEmpty)
        store.failSaves(nil)
        try registry.register(vm)
        // What already happened is recorded even when the store fails: a workload that left is gone.
        store.failSaves("disk full")
        #expect(registry.deregister(namespace: "default", name: "vm"))
        #expect(registry.workloads().isEmpty)
    }

    @Test(.timeLimit(.minutes(1))) func aSlowStoreNeverBlocksReaders() async throws {
        let store = GatedStore()
        let registry = try MeshRegistry(store: store, clock: ManualClock())
        let writer = Thread { try? registry.apply(text: service, source: "a.yaml") }
        writer.start()
        store.entered.wait()  // the apply is inside save() now, and stays there until released
        // Readers answer at once with the state before the change.
        #expect(registry.meshState().version == 0)
        #expect(registry.resources().isEmpty && registry.workloads().isEmpty && registry.errors().isEmpty)
        store.release.signal()
        while registry.version == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(registry.resources().map(\.key.name) == ["reviews"])
    }
}

/// A store whose save waits until the test releases it.
final class GatedStore: RegistryStore, @unchecked Sendable {
    let entered = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)

    func load() throws -> StoredState { StoredState() }

    func save(_ state: StoredState) throws {
        entered.signal()
        release.wait()
    }
}
