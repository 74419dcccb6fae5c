import WeftCore

// A strict JSON (RFC 8259) reader into WeftCore's `JSONValue`, for JWT headers and payloads and JWKS documents.
// Token payloads are parsed before their signature is checked, so the reader bounds nesting depth, refuses
// invalid UTF-8 and lone surrogates, and reads nothing past the document but whitespace.

enum JSONParser {
    /// Deeper documents are refused rather than recursed into.
    static let maxDepth = 64

    /// The value `bytes` hold, or nil when they are not exactly one JSON document.
    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            guard let value = reader.value(depth: 0) else { return nil }
            reader.skipWhitespace()
            return reader.at == buffer.count ? value : nil
        }
    }

    /// The value `text` holds, or nil when it is not exactly one JSON document.
    static func parse(_ text: String) -> JSONValue? {
        parse(Array(text.utf8))
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipWhitespace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 {
                at += 1
            }
        }

        mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
            let n = word.utf8CodeUnitCount
            guard at + n <= bytes.count else { return nil }
            for i in 0..<n where bytes[at + i] != word.utf8Start[i] { return nil }
            at += n
            return value
        }

        mutating func value(depth: Int) -> JSONValue? {
            skipWhitespace()
            guard let c = peek else { return nil }
            switch c {
            case UInt8(ascii: "{"): return depth < JSONParser.maxDepth ? object(depth: depth + 1) : nil
            case UInt8(ascii: "["): return depth < JSONParser.maxDepth ? array(depth: depth + 1) : nil
            case UInt8(ascii: "\""): return string().map(JSONValue.string)
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            default: return number()
            }
        }

        mutating func object(depth: Int) -> JSONValue? {
            at += 1  // {
            var pairs: [(String, JSONValue)] = []
            skipWhitespace()
            if peek == UInt8(ascii: "}") { at += 1; return .object(pairs) }
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\""), let key = string() else { return nil }
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { return nil }
                at += 1
                guard let v = value(depth: depth) else { return nil }
                pairs.append((key, v))
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): at += 1
                case UInt8(ascii: "}"): at += 1; return .object(pairs)
                default: return nil
                }
            }
        }

        mutating func array(depth: Int) -> JSONValue? {
            at += 1  // [
            var items: [JSONValue] = []
            skipWhitespace()
            if peek == UInt8(ascii: "]") { at += 1; return .array(items) }
            while true {
                guard let v = value(depth: depth) else { return nil }
                items.append(v)
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): at += 1
                case UInt8(ascii: "]"): at += 1; return .array(items)
                default: return nil
                }
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() -> JSONValue? {
            let start = at
            if peek == UInt8(ascii: "-") { at += 1 }
            if peek == UInt8(ascii: "0") {
                at += 1
            } else if digits() == 0 {
                return nil
            }
            if peek == UInt8(ascii: ".") {
                at += 1
                guard digits() > 0 else { return nil }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                at += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { return nil }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
            return Double(text).map(JSONValue.number)
        }

        mutating func digits() -> Int {
            let start = at
            while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { at += 1 }
            return at - start
        }

        /// A string starting at the opening quote; the common case (no escapes) is one UTF-8 validation.
        mutating func string() -> String? {
            at += 1  // "
            var runStart = at
            var decoded: [UInt8]? = nil  // the text so far, once an escape is seen
            while at < bytes.count {
                let c = bytes[at]
                if c == UInt8(ascii: "\"") {
                    let run = UnsafeBufferPointer(rebasing: bytes[runStart..<at])
                    at += 1
                    guard var scalars = decoded else { return String(validating: run, as: UTF8.self) }
                    scalars.append(contentsOf: run)
                    return String(validating: scalars, as: UTF8.self)
                }
                if c < 0x20 { return nil }
                if c == UInt8(ascii: "\\") {
                    var scalars = decoded ?? []
                    decoded = nil
                    scalars.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<at]))
                    at += 1
                    guard escape(into: &scalars) else { return nil }
                    decoded = scalars
                    runStart = at
                } else {
                    at += 1
                }
            }
            return nil
        }

        /// One escape after the backslash, appended as UTF-8.
        mutating func escape(into out: inout [UInt8]) -> Bool {
            guard let c = peek else { return false }
            at += 1
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let high = hex4() else { return false }
                var code = UInt32(high)
                if (0xD800..<0xDC00).contains(high) {
                    // A high surrogate must be followed by an escaped low one.
                    guard peek == UInt8(ascii: "\\"), at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: "u") else { return false }
                    at += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return false }
                    code = 0x10000 + (UInt32(high) - 0xD800) << 10 + (UInt32(low) - 0xDC00)
                } else if (0xDC00..<0xE000).contains(high) {
                    return false
                }
                guard let scalar = Unicode.Scalar(code) else { return false }
                out.append(contentsOf: UTF8.encode(scalar)!)
            default: return false
            }
            return true
        }

        mutating func hex4() -> UInt16? {
            guard at + 4 <= bytes.count else { return nil }
            var v: UInt16 = 0
            for _ in 0..<4 {
                let c = bytes[at]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt16(d)
                at += 1
            }
            return v
        }
    }
}
