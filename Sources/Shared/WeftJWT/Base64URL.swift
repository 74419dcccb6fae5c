// Base64url (RFC 4648 section 5) without padding, as JWS and JWK use it: decoded by table lookup straight from
// the UTF-8 bytes, with no intermediate string.

/// Base64url encoding and decoding (RFC 4648 section 5). Decoding accepts text with or without `=` padding and
/// refuses standard-base64 `+` and `/`, whitespace and any other byte.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Value of each byte in the alphabet, 0xFF for bytes outside it.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// The bytes `text` encodes, or nil when it is not base64url.
    public static func decode(_ text: Substring) -> [UInt8]? {
        let utf8 = text.utf8
        if let fast = utf8.withContiguousStorageIfAvailable({ decode(bytes: $0) }) { return fast }
        return decode(bytes: Array(utf8))
    }

    /// The bytes `text` encodes, or nil when it is not base64url.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(Substring(text))
    }

    private static func decode(bytes: some RandomAccessCollection<UInt8>) -> [UInt8]? {
        var end = bytes.count
        // Up to two padding characters, only where they complete a four-character group.
        if end % 4 == 0 {
            var pad = 0
            while pad < 2, end > 0, bytes[bytes.index(bytes.startIndex, offsetBy: end - 1)] == UInt8(ascii: "=") {
                end -= 1
                pad += 1
            }
        }
        if end % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(end / 4 * 3 + 2)
        var acc: UInt32 = 0
        var bits = 0
        var i = bytes.startIndex
        for _ in 0..<end {
            let v = values[Int(bytes[i])]
            if v == 0xFF { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
            i = bytes.index(after: i)
        }
        return out
    }

    /// `bytes` in base64url, without padding.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        var acc: UInt32 = 0
        var bits = 0
        for b in bytes {
            acc = acc << 8 | UInt32(b)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[Int(acc >> UInt32(bits) & 0x3F)])
            }
        }
        if bits > 0 { out.append(alphabet[Int(acc << UInt32(6 - bits) & 0x3F)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
