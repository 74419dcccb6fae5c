/// Parses Istio/protobuf-style durations: `1s`, `0.5s`, `100ms`, `2m`, `1h`, `1h30m`, `250us`.
public enum ConfigDuration {
    public enum Problem: Error, Equatable {
        /// Not a duration at all.
        case malformed
        /// More nanoseconds than an Int64 holds (about 292 years).
        case tooLong
    }

    /// The longest duration accepted, in hours (2,562,047 h: the most whole hours that fit in Int64 nanoseconds).
    public static let maximumHours = Int64.max / 3_600_000_000_000

    /// Nanoseconds of a duration text, or why it is not one. The value is range-checked before it becomes an
    /// integer, so no input can trap.
    public static func parse(_ text: String) -> Result<Int64, Problem> {
        var rest = Substring(text.trimmingSpaces())
        guard !rest.isEmpty else { return .failure(.malformed) }
        var total: Double = 0
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("µs", 1e3), ("ns", 1), ("h", 3.6e12), ("m", 6e10), ("s", 1e9)]
        while !rest.isEmpty {
            let numberEnd = rest.firstIndex { !($0.isNumber || $0 == ".") } ?? rest.endIndex
            guard let value = Double(rest[..<numberEnd]), numberEnd != rest.startIndex else { return .failure(.malformed) }
            rest = rest[numberEnd...]
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return .failure(.malformed) }
            total += value * scale
            rest = rest.dropFirst(unit.count)
        }
        // 2^63 is exactly representable; anything at or above it (or infinite) does not fit.
        guard total.isFinite, total < 9_223_372_036_854_775_808.0 else { return .failure(.tooLong) }
        return .success(Int64(total.rounded(.down)))
    }

    /// Nanoseconds, or nil when the text is not a duration or too long.
    public static func nanoseconds(_ text: String) -> Int64? { try? parse(text).get() }

    /// The error text for a duration field that does not parse.
    public static func message(_ text: String, _ problem: Problem, example: String = "for example 1s, 500ms, 1m") -> String {
        switch problem {
        case .malformed: return "'\(text)' is not a duration (\(example))"
        case .tooLong: return "'\(text)' is too long (at most \(maximumHours)h, about 292 years)"
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}

extension Duration {
    /// The duration in milliseconds, for logs and reports.
    public var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
