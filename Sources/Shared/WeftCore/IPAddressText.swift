/// Textual checks on IP addresses (no resolution, no sockets).
public enum IPAddressText {
    public static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isNumber) && (Int(p) ?? 256) <= 255
        }
    }

    public static func isIPv6(_ s: String) -> Bool {
        guard s.contains(":"), s.count >= 2 else { return false }
        var text = Substring(s)
        if let pct = text.firstIndex(of: "%") { text = text[..<pct] }
        let doubleColons = text.components(separatedBy: "::").count - 1
        guard doubleColons <= 1 else { return false }
        var groups = text.split(separator: ":", omittingEmptySubsequences: true)
        var maxGroups = 8
        if let last = groups.last, last.contains(".") {
            guard isIPv4(String(last)) else { return false }
            groups.removeLast()
            maxGroups = 6
        }
        guard groups.allSatisfy({ $0.count <= 4 && $0.allSatisfy(\.isHexDigit) }) else { return false }
        return doubleColons == 1 ? groups.count < maxGroups : groups.count == maxGroups
    }

    public static func isIP(_ s: String) -> Bool { isIPv4(s) || isIPv6(s) }
}

import Foundation
