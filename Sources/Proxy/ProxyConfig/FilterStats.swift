import WeftCore

/// The name of a counter as the admin page shows it (Envoy's dotted names, `http.inbound_8080.rbac.allowed`), with
/// its hash computed once, when config arrives, so counting on the request path hashes one integer.
public struct StatName: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    let hash: Int

    public init(_ text: String) {
        self.text = text
        hash = text.hashValue
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    public static func == (a: StatName, b: StatName) -> Bool { a.hash == b.hash && a.text == b.text }
    public var description: String { text }

    /// Envoy's statPrefixJoin: `prefix` and `suffix` with one `.` between them (none when `prefix` is empty or
    /// already ends in `.`).
    public static func join(_ prefix: String, _ suffix: String) -> String {
        if prefix.isEmpty { return suffix }
        return prefix.hasSuffix(".") ? prefix + suffix : prefix + "." + suffix
    }
}

/// A line filters log: plain words and fields, handed to the worker's logger (the pure layers import no logging).
public struct FilterLogEvent: Sendable, Equatable {
    public enum Level: Sendable, Equatable { case debug, info }
    public var level: Level
    public var message: String
    public var fields: [String: String]

    public init(_ level: Level, _ message: String, _ fields: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.fields = fields
    }
}

/// What filters keep per worker (event loop): named counters (summed over workers by the admin page, kept across
/// config changes since they are keyed by name, as Envoy's stats are), small caches that filters key by their
/// own config, and the log. Used only on its worker's loop, so nothing here takes a lock.
public final class WorkerFilterState: @unchecked Sendable {
    public private(set) var counters: [StatName: Int] = [:]
    let sink: @Sendable (FilterLogEvent) -> Void
    /// Each cache with the config object that owns it, oldest first.
    var caches: [(owner: AnyObject, cache: AnyObject)] = []
    /// Caches of this many configs at most: a worker runs one config at a time, plus the old one for requests
    /// that started before an update.
    static let maxCaches = 4

    /// Wall-clock time for checks against absolute times (a JWT's `exp` and `nbf`).
    public let wallClock: any WallClock

    public init(wallClock: any WallClock = SystemWallClock(), log: @escaping @Sendable (FilterLogEvent) -> Void = { _ in }) {
        self.wallClock = wallClock
        sink = log
    }

    @inline(__always) public func count(_ name: StatName, by n: Int = 1) { counters[name, default: 0] += n }

    public func log(_ event: FilterLogEvent) { sink(event) }

    /// The cache that `owner` (a filter's compiled config) keeps on this worker, made on first use. Keyed by the
    /// owner object itself, which the entry keeps alive, so a new config never finds an old config's cache.
    public func cache<C: AnyObject>(for owner: AnyObject, make: () -> C) -> C {
        for entry in caches where entry.owner === owner {
            if let c = entry.cache as? C { return c }
        }
        let c = make()
        if caches.count >= Self.maxCaches { caches.removeFirst() }
        caches.append((owner, c))
        return c
    }
}
