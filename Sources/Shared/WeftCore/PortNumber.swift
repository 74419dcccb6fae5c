/// TCP port numbers as config gives them: one check and one message for every place that takes a port.
public enum PortNumber {
    public static let range = 1...65535

    public static func isValid(_ port: Int) -> Bool { range.contains(port) }

    /// "must be between 1 and 65535, got 0", or nil for a valid port.
    public static func problem(_ port: Int) -> String? {
        isValid(port) ? nil : "must be between \(range.lowerBound) and \(range.upperBound), got \(port)"
    }
}
