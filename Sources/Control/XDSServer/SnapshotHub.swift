import Synchronization
import WeftModel

/// Holds the current MeshState and hands every new one to all open streams.
public final class SnapshotHub: Sendable {
    struct State {
        var current: MeshState?
        var subscribers: [Int: AsyncStream<MeshState>.Continuation] = [:]
        var nextID = 0
    }
    let state = Mutex(State())

    public init() {}

    public func publish(_ mesh: MeshState) {
        let subs = state.withLock { s in
            s.current = mesh
            return Array(s.subscribers.values)
        }
        for c in subs { c.yield(mesh) }
    }

    public var current: MeshState? { state.withLock { $0.current } }

    /// A stream of snapshots that starts with the current one; only the newest unread snapshot is kept.
    public func subscribe() -> AsyncStream<MeshState> {
        let (stream, continuation) = AsyncStream.makeStream(of: MeshState.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            s.subscribers[id] = continuation
            if let m = s.current { continuation.yield(m) }
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }
}
