#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP block as config writes it (`10.0.0.0/8`, `2001:db8::/32`, or one address for its whole length), parsed
/// to network-order bytes so a match is a byte comparison. Used by validation, translation and the proxy.
public struct CIDRText: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]
    public let prefixLength: Int

    /// `text` is an address or `address/length`; nil when it is neither.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.address(String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...bits).contains(n), parts[1].allSatisfy(\.isNumber) else { return nil }
            self.init(bytes: bytes, prefixLength: n)
        } else {
            self.init(bytes: bytes, prefixLength: bits)
        }
    }

    public init(bytes: [UInt8], prefixLength: Int) {
        self.bytes = bytes
        self.prefixLength = prefixLength
    }

    /// The address part, as given, with the bits past the prefix cleared.
    public var addressText: String { Self.text(masked(bytes)) }

    public var description: String { "\(addressText)/\(prefixLength)" }

    /// Whether `address` (network-order bytes of the same family) is inside the block.
    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var left = prefixLength
        var i = 0
        while left >= 8 {
            if address[i] != bytes[i] { return false }
            left -= 8
            i += 1
        }
        if left == 0 { return true }
        let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - left))
        return address[i] & mask == bytes[i] & mask
    }

    /// Whether the textual address is inside the block (false when it does not parse).
    public func contains(text: String) -> Bool { Self.address(text).map(contains) ?? false }

    func masked(_ b: [UInt8]) -> [UInt8] {
        var out = b
        for i in out.indices {
            let keep = max(0, min(8, prefixLength - i * 8))
            out[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        return out
    }

    /// The network-order bytes of an IPv4 or IPv6 address (a zone `%eth0` is ignored).
    public static func address(_ s: String) -> [UInt8]? {
        var text = s
        if let pct = text.firstIndex(of: "%") { text = String(text[..<pct]) }
        if text.contains(":") {
            var a = in6_addr()
            guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
            return withUnsafeBytes(of: &a) { Array($0) }
        }
        guard IPAddressText.isIPv4(text) else { return nil }
        return text.split(separator: ".").map { UInt8($0)! }
    }

    static func text(_ b: [UInt8]) -> String {
        if b.count == 4 { return b.map(String.init).joined(separator: ".") }
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = b
        return copy.withUnsafeMutableBytes { raw in
            inet_ntop(AF_INET6, raw.baseAddress, &buf, socklen_t(buf.count)).map { _ in String(cString: buf) } ?? ""
        }
    }
}
