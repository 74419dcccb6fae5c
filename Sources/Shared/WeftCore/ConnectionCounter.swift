import Synchronization

/// Open connections of one listening socket over all its event loops, with a limit: shared by the proxy's
/// listeners (their connection limit) and the control plane's HTTP API. Atomics only.
public final class ConnectionCounter: Sendable {
    let count = Atomic<Int>(0)
    let refused = Atomic<Int>(0)

    public init() {}

    /// Open connections now.
    public var open: Int { count.load(ordering: .relaxed) }
    /// Connections turned away so far.
    public var refusedTotal: Int { refused.load(ordering: .relaxed) }

    /// Counts a new connection in; false (and not counted) when `max` are already open. nil: no limit.
    public func admit(max: Int?) -> Bool {
        let n = count.wrappingAdd(1, ordering: .relaxed).newValue
        guard let max, n > max else { return true }
        count.wrappingSubtract(1, ordering: .relaxed)
        refused.wrappingAdd(1, ordering: .relaxed)
        return false
    }

    /// A connection counted in by `admit` closed.
    public func release() { count.wrappingSubtract(1, ordering: .relaxed) }
}
