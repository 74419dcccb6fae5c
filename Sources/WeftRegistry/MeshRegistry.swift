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
        var apiResources: [ResourceKey: Resource] = [:]
        var workloads: [String: RegisteredWorkload] = [:]
        /// Services once declared by registration, by namespace: they stay declared when their workloads leave.
        var rememberedServices: [String: [RegisteredService]] = [:]
        var version = 0

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

        var extraHosts: Set<String> { meshWorkloads.reduce(into: []) { $0.formUnion($1.declaredHosts) } }

        func problems(_ resources: [Resource]) -> Set<Diagnostic> {
            Set(ConfigSetValidator.validate(resources, extraHosts: extraHosts))
        }
    }

    let state = Mutex(State())
    let store: DurableStore?
    let clock: any WallClock
    /// Yields once per accepted change; the control plane debounces and publishes a new MeshState.
    public let changes: AsyncStream<Void>
    let changed: AsyncStream<Void>.Continuation

    public init(store: DurableStore?, clock: any WallClock) throws {
        self.store = store
        self.clock = clock
        (changes, changed) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        if let store {
            let (resources, workloads) = try store.load()
            let now = clock.now()
            state.withLock { s in
                for r in resources { s.apiResources[r.key] = r }
                for var w in workloads {
                    // A restart is not the workload's fault: give each one a fresh TTL to heartbeat again.
                    if let ttl = w.ttlSeconds { w.expiresAt = now + ttl }
                    s.workloads["\(w.namespace)/\(w.name)"] = w
                    s.remember(w)
                }
            }
        }
    }

    func commit(_ s: inout State) {
        s.version += 1
        if let store {
            let resources = s.apiResources.keys.sorted().map { s.apiResources[$0]! }
            do { try store.save(resources: resources, workloads: s.workloads.keys.sorted().map { s.workloads[$0]! }) } catch {
                FileHandle.standardError.write(Data("weft: cannot save the store: \(error)\n".utf8))
            }
        }
        changed.yield()
    }

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
        let result: Result<[ResourceKey], DiagnosticError> = state.withLock { s in
            var next = s
            for r in decoded { next.apiResources[r.key] = r }
            let introduced = next.problems(next.allResources).subtracting(s.problems(s.allResources))
            if !introduced.isEmpty { return .failure(DiagnosticError(introduced.sorted { $0.description < $1.description })) }
            s = next
            commit(&s)
            return .success(decoded.map(\.key))
        }
        return try result.get()
    }

    /// Deletes an API-applied resource. Refused when others still refer to it.
    public func delete(_ key: ResourceKey) throws(DiagnosticError) -> Bool {
        let result: Result<Bool, DiagnosticError> = state.withLock { s in
            guard s.apiResources[key] != nil else { return .success(false) }
            var next = s
            next.apiResources[key] = nil
            let introduced = next.problems(next.allResources).subtracting(s.problems(s.allResources))
            if !introduced.isEmpty { return .failure(DiagnosticError(introduced.sorted { $0.description < $1.description })) }
            s = next
            commit(&s)
            return .success(true)
        }
        return try result.get()
    }

    public func resources() -> [Resource] { state.withLock { $0.allResources } }

    public var version: Int { state.withLock { $0.version } }

    /// Problems with files in the config folder that were refused (their last good content keeps serving).
    public func errors() -> [Diagnostic] {
        state.withLock { s in s.fileErrors.keys.sorted().flatMap { s.fileErrors[$0]! } }
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
        state.withLock { s in
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
            let changedContent = next.allResources != s.allResources
            s = next
            if changedContent { commit(&s) }
        }
    }
}
