import WeftConfig
import WeftCore
import WeftModel

/// What a store keeps across restarts: the resources applied through the API and the registered workloads.
/// Files of the config folder are not stored: the folder itself is their source.
public struct StoredState: Sendable, Equatable {
    public var resources: [Resource]
    public var workloads: [RegisteredWorkload]
    /// Stored resources that no longer validate (rules got stricter): not loaded, reported as errors, and kept
    /// aside by the store so nothing is lost.
    public var refused: [Diagnostic] = []

    public init(resources: [Resource] = [], workloads: [RegisteredWorkload] = [], refused: [Diagnostic] = []) {
        self.resources = resources
        self.workloads = workloads
        self.refused = refused
    }
}

/// Where a MeshRegistry keeps what must survive a restart. `FileStore` (one JSON file) and `MemoryStore` (tests)
/// implement it; an etcd store is a third implementation.
///
/// The registry calls `save` with the whole new state before it takes a change, one call at a time (changes are
/// serialised), and never while it holds the lock that readers take: a slow store delays the next change, never
/// a read or an xDS push. A change whose `save` throws is refused and the running config stays as it was.
public protocol RegistryStore: Sendable {
    /// What was saved last; an empty state when nothing was. A store that cannot be read throws, never
    /// answers empty.
    func load() throws -> StoredState
    func save(_ state: StoredState) throws
}
