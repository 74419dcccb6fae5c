import Foundation
import Synchronization
import WeftConfig
import WeftCore
import WeftModel

/// The control plane's source of truth: config from files and the API, plus registered workloads.
/// Every change is validated as a whole first; a refused change leaves everything as it was.
public final class MeshRegistry: Sendable {
    struct State {
        var fileResources: [String: [Resource]] = [:]
        var fileErrors: [String: [Diagnostic]] = [:]
        /// Stored resources that no longer validate, found at start.
        var storeErrors: [Diagnostic] = []
        var apiResources: [ResourceKey: Resource] = [:]
        var workloads: [String: RegisteredWorkload] = [:]
        /// Services once declared by registration, by namespace: they stay declared when their workloads leave.
        var rememberedServices: [String: [RegisteredService]] = [:]
        var version = 0
        /// The mesh's telemetry providers by kind, which Telemetry resources must name (nil: not checked).
        var telemetryProviders: [String: MeshTelemetryConfig.ProviderKind]?

        mutating func remember(_ w: RegisteredWorkload) {
            for svc in w.services where !(rememberedServices[w.namespace] ?? []).contains(where: { $0.name == svc.name && $0.port == svc.port }) {
                rememberedServices[w.namespace, default: []].append(svc)
            }
        }

        /// Live workloads plus address-less holders of remembered services.
        var meshWorkloads: [RegisteredWorkload] {
            workloads.keys.sorted().map { workloads[$0]! } + rememberedServices.keys.sorted().map { ns in
                RegisteredWorkload(name: "", namespace: ns, addresses: [], services: rememberedServices[ns]!)
            }
        }

        /// File resources, then API resources; an API-applied resource overrides a file's resource with the
        /// same kind, namespace and name (deleting it through the API brings the file's version back).
        var allResources: [Resource] {
            fileResources.keys.sorted().flatMap { fileResources[$0]!.filter { apiResources[$0.key] == nil } }
                + apiResources.keys.sorted().map { apiResources[$0]! }
        }

        /// The part a RegistryStore keeps.
        var stored: StoredState {
            StoredState(resources: apiResources.keys.sorted().map { apiResources[$0]! },
                        workloads: workloads.keys.sorted().map { workloads[$0]! })
        }

        var extraHosts: Set<String> { meshWorkloads.reduce(into: []) { $0.formUnion($1.declaredHosts) } }

        func problems(_ resources: [Resource]) -> Set<Diagnostic> {
            Set(ConfigSetValidator.validate(resources, extraHosts: extraHosts, telemetryProviders: telemetryProviders))
        }
    }

    /// Read by every reader (xDS, API) and held only for in-memory work, never for I/O.
    let state = Mutex(State())
    /// Serialises changes: each is computed, saved to the store, then taken, one at a time.
    let writer = Mutex(())
    let store: any RegistryStore
    let clock: any WallClock
    /// Yields once per accepted change; the control plane debounces and publishes a new MeshState.
    public let changes: AsyncStream<Void>
    let changed: AsyncStream<Void>.Continuation

    /// `store` nil keeps nothing across restarts (a MemoryStore of this registry's own).
    /// `telemetryProviders`: the mesh's providers by kind (`--mesh-config`); a Telemetry naming another is refused.
    public init(store: (any RegistryStore)?, clock: any WallClock,
                telemetryProviders: [String: MeshTelemetryConfig.ProviderKind]? = nil) throws {
        self.store = store ?? MemoryStore()
        self.clock = clock
        (changes, changed) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        let saved = try self.store.load()
        let now = clock.now()
        state.withLock { s in
            s.telemetryProviders = telemetryProviders
            for r in saved.resources { s.apiResources[r.key] = r }
            s.storeErrors = saved.refused
            for var w in saved.workloads {
                // A restart is not the workload's fault: give each one a fresh TTL to heartbeat again.
                if let ttl = w.ttlSeconds { w.expiresAt = now + ttl }
                s.workloads["\(w.namespace)/\(w.name)"] = w
                s.remember(w)
            }
        }
    }

    /// What a change computed from the current state: refused, nothing to do, a new state to save and publish,
    /// or a new state that is neither stored nor published (a heartbeat's new deadline).
    enum Outcome<T> {
        case refused(DiagnosticError)
        case unchanged(T)
        case changed(State, T)
        case quiet(State, T)
    }

    /// Runs one change: `compute` sees a copy of the current state (no lock held while it validates), the new
    /// state is saved to the store outside the readers' lock, then taken and published. Changes run one at a time.
    /// When the store fails, a change that a user asked for is refused (nothing changes); a change that records
    /// what already happened (`mustSave` false: a workload left or expired, the folder changed) is taken anyway
    /// and the failure is logged.
    func change<T: Sendable>(mustSave: Bool = true, _ compute: (State) -> Outcome<T>) throws(DiagnosticError) -> T {
        try writer.withLock { _ throws(DiagnosticError) -> T in
            let current = state.withLock { $0 }
            switch compute(current) {
            case let .refused(e): throw e
            case let .unchanged(v): return v
            case let .quiet(next, v):
                state.withLock { $0 = next }
                return v
            case .changed(var next, let v):
                next.version = current.version + 1
                let stored = next.stored
                if stored != current.stored {
                    do { try store.save(stored) } catch {
                        let d = Diagnostic(path: "store", message: "the change could not be saved: \(error)")
                        if mustSave { throw DiagnosticError([d]) }
                        FileHandle.standardError.write(Data("weft: \(d)\n".utf8))
                    }
                }
                state.withLock { $0 = next }
                changed.yield()
                return v
            }
        }
    }

    /// A change that cannot be refused: `change(mustSave: false)`.
    func record<T: Sendable>(_ compute: (State) -> Outcome<T>) -> T {
        do { return try change(mustSave: false, compute) } catch {
            preconditionFailure("a change with mustSave false is never refused: \(error)")
        }
    }

    /// Something translation reads from outside the registry changed (the key sets fetched for `jwksUri`): a new
    /// version, published like any change, so every proxy gets config made with it.
    public func touch() { record { s in .changed(s, ()) } }

    // MARK: API resources

    /// Applies every resource in `text`, or none of them. Returns the keys applied.
    @discardableResult
    public func apply(text: String, source: String) throws(DiagnosticError) -> [ResourceKey] {
        let decoded = try ResourceDecoder.decode(text: text, file: source)
        var seen: [ResourceKey: Resource] = [:]
        var problems: [Diagnostic] = []
        for r in decoded {
            if seen[r.key] != nil { problems.append(Diagnostic(file: source, resource: r.key.description, path: "metadata.name", message: "duplicate name in the same input")) }
            seen[r.key] = r
        }
        if !problems.isEmpty { throw DiagnosticError(problems) }
        return try change { s in
            var next = s
            for r in decoded { next.apiResources[r.key] = r }
            let introduced = next.problems(next.allResources).subtracting(s.problems(s.allResources))
            if !introduced.isEmpty { return .refused(DiagnosticError(introduced.sorted { $0.description < $1.description })) }
            return .changed(next, decoded.map(\.key))
        }
    }

    /// Deletes an API-applied resource. Refused when others still refer to it.
    public func delete(_ key: ResourceKey) throws(DiagnosticError) -> Bool {
        try change { s in
            guard s.apiResources[key] != nil else { return .unchanged(false) }
            var next = s
            next.apiResources[key] = nil
            let introduced = next.problems(next.allResources).subtracting(s.problems(s.allResources))
            if !introduced.isEmpty { return .refused(DiagnosticError(introduced.sorted { $0.description < $1.description })) }
            return .changed(next, true)
        }
    }

    public func resources() -> [Resource] { state.withLock { $0.allResources } }

    public var version: Int { state.withLock { $0.version } }

    /// Problems with files in the config folder that were refused (their last good content keeps serving), and
    /// stored resources that no longer validate.
    public func errors() -> [Diagnostic] {
        state.withLock { s in s.fileErrors.keys.sorted().flatMap { s.fileErrors[$0]! } + s.storeErrors }
    }

    /// The immutable snapshot that translation reads.
    public func meshState() -> MeshState {
        state.withLock { s in
            MeshState(version: s.version, resources: s.allResources, workloads: s.meshWorkloads)
        }
    }

    // MARK: Config folder

    /// Takes the folder's current content: good files replace their previous content, refused files keep it.
    public func reload(folder: [String: Result<[Resource], DiagnosticError>]) {
        record { s in
            var next = s
            next.fileErrors = [:]
            for name in next.fileResources.keys where folder[name] == nil { next.fileResources[name] = nil }
            for (name, result) in folder {
                switch result {
                case let .success(resources): next.fileResources[name] = resources
                case let .failure(e): next.fileErrors[name] = e.diagnostics
                }
            }
            let introduced = next.problems(next.allResources).subtracting(s.problems(s.allResources))
            for d in introduced {
                let name = d.file
                next.fileResources[name] = s.fileResources[name]
                next.fileErrors[name, default: []].append(d)
            }
            // Errors are shown whether or not the content changed; only content changes are published.
            return next.allResources != s.allResources ? .changed(next, ()) : .quiet(next, ())
        }
    }
}
