import Synchronization
import WeftModel

/// Translated and packed resources by (mesh version, proxy scope): a change is translated once per distinct
/// proxy view, however many streams share it, and streams only diff and send. Both the state-of-the-world
/// streams and (later) delta streams read it: an entry holds every resource with its own content hash.
///
/// Only the newest mesh version is kept; a stream still catching up on an older version gets a translation
/// that is not stored.
public final class XDSCache: Sendable {
    let generator: any XDSGenerator

    /// One entry; streams that want the same one wait on its lock while the first computes it.
    final class Slot: Sendable {
        let value = Mutex<ResourceSet?>(nil)
    }

    struct Entries {
        var version = Int.min
        var slots: [ProxyNode: Slot] = [:]
    }

    let entries = Mutex(Entries())
    let count = Atomic<Int>(0)

    public init(generator: any XDSGenerator = TranslatorGenerator()) {
        self.generator = generator
    }

    /// How many times the generator has run: once per distinct (mesh version, scope).
    public var translations: Int { count.load(ordering: .relaxed) }

    /// How many scopes the newest version has entries for.
    public var scopes: Int { entries.withLock { $0.slots.count } }

    func resources(mesh: MeshState, node: ProxyNode) -> ResourceSet {
        let scope = generator.scope(of: node)
        let slot: Slot? = entries.withLock { e in
            if mesh.version > e.version { e = Entries(version: mesh.version) }
            guard mesh.version == e.version else { return nil }
            if let s = e.slots[scope] { return s }
            let s = Slot()
            e.slots[scope] = s
            return s
        }
        guard let slot else { return make(mesh, scope) }
        return slot.value.withLock { v in
            if let v { return v }
            let made = make(mesh, scope)
            v = made
            return made
        }
    }

    func make(_ mesh: MeshState, _ scope: ProxyNode) -> ResourceSet {
        count.add(1, ordering: .relaxed)
        return ResourceSet(generator.generate(mesh: mesh, scope: scope))
    }
}
