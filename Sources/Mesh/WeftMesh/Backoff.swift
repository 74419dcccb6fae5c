/// Restart delays: `initial`, doubling up to `max`; back to `initial` after a run that lasted `stableAfter`.
public struct Backoff: Sendable, Equatable {
    public let initial: Double
    public let max: Double
    public let stableAfter: Double
    public private(set) var attempt = 0

    public init(initial: Double, max: Double, stableAfter: Double = 10) {
        self.initial = initial
        self.max = Swift.max(initial, max)
        self.stableAfter = stableAfter
    }

    /// The delay before the next start, given how long the last run lasted (seconds).
    public mutating func next(ranFor seconds: Double) -> Double {
        if seconds >= stableAfter { attempt = 0 }
        let d = Swift.min(max, initial * Double(1 << Swift.min(attempt, 30)))
        attempt += 1
        return d
    }
}
