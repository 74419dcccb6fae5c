/// Parses Istio/protobuf-style durations: `1s`, `0.5s`, `100ms`, `2m`, `1h`, `1h30m`, `250us`.
public enum ConfigDuration {
    /// Returns nanoseconds, or nil when the text is not a duration.
    public static func nanoseconds(_ text: String) -> Int64? {
        var rest = Substring(text.trimmingSpaces())
        guard !rest.isEmpty else { return nil }
        var total: Double = 0
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("µs", 1e3), ("ns", 1), ("h", 3.6e12), ("m", 6e10), ("s", 1e9)]
        while !rest.isEmpty {
            let numberEnd = rest.firstIndex { !($0.isNumber || $0 == ".") } ?? rest.endIndex
            guard let value = Double(rest[..<numberEnd]), numberEnd != rest.startIndex else { return nil }
            rest = rest[numberEnd...]
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            total += value * scale
            rest = rest.dropFirst(unit.count)
        }
        return Int64(total.rounded())
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
