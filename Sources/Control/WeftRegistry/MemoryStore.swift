import Synchronization

/// A RegistryStore in memory, for tests and for a control plane started without `--data`. It counts saves
/// and can be told to fail them, so tests can see what reaches the store and what a failing store refuses.
public final class MemoryStore: RegistryStore {
    struct Contents {
        var state = StoredState()
        var saves = 0
        var failure: String?
    }

    let contents: Mutex<Contents>

    public init(_ state: StoredState = StoredState()) {
        contents = Mutex(Contents(state: state))
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    public func load() throws -> StoredState { contents.withLock { $0.state } }

    public func save(_ state: StoredState) throws {
        try contents.withLock { c throws(Refused) in
            if let failure = c.failure { throw Refused(description: failure) }
            c.state = state
            c.saves += 1
        }
    }

    /// What was saved last.
    public var state: StoredState { contents.withLock { $0.state } }
    /// How many saves succeeded.
    public var saves: Int { contents.withLock { $0.saves } }
    /// Makes every later save fail with `reason` (nil: succeed again).
    public func failSaves(_ reason: String?) { contents.withLock { $0.failure = reason } }
}
