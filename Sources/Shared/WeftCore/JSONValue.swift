import Foundation

/// A JSON-shaped value: what YAML and JSON documents are turned into at the edge, before typed decoding.
/// Object keys keep their document order so output reads like the input.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(serialized())
    }

    /// Looks up a key of an object value.
    public subscript(key: String) -> JSONValue? {
        if case let .object(pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var numberValue: Double? {
        if case let .number(n) = self { return n }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// Compact JSON text with keys in stored order (`sortKeys` sorts them, for stable hashing).
    public func serialized(pretty: Bool = false, sortKeys: Bool = false, indent: String = "") -> String {
        var out = ""
        write(into: &out, pretty: pretty, sortKeys: sortKeys, indent: indent)
        return out
    }

    private func write(into out: inout String, pretty: Bool, sortKeys: Bool, indent: String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(n):
            if n.rounded() == n, abs(n) < 1e15 { out += String(Int64(n)) } else { out += String(n) }
        case let .string(s): JSONValue.escape(s, into: &out)
        case let .array(items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            let inner = indent + "  "
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + inner }
                item.write(into: &out, pretty: pretty, sortKeys: sortKeys, indent: inner)
            }
            if pretty { out += "\n" + indent }
            out += "]"
        case let .object(pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{"
            let inner = indent + "  "
            let ordered = sortKeys ? pairs.sorted { $0.0 < $1.0 } : pairs
            for (i, (k, v)) in ordered.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + inner }
                JSONValue.escape(k, into: &out)
                out += pretty ? ": " : ":"
                v.write(into: &out, pretty: pretty, sortKeys: sortKeys, indent: inner)
            }
            if pretty { out += "\n" + indent }
            out += "}"
        }
    }

    /// `s` as a JSON string, quotes included, appended to `out`.
    public static func escape(_ s: String, into out: inout String) {
        out += "\""
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(format: "%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
