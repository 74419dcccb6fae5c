/// Writes a JSONValue as block-style YAML; strings are quoted whenever plain text could read back as another type.
public enum YAMLWriter {
    public static func write(_ value: JSONValue) -> String {
        var out = ""
        emit(value, indent: 0, into: &out, inline: false)
        return out
    }

    static func scalar(_ v: JSONValue) -> String? {
        switch v {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case .number: return v.serialized()
        case let .string(text): return plainSafe(text) ? text : v.serialized()
        case let .array(a) where a.isEmpty: return "[]"
        case let .object(o) where o.isEmpty: return "{}"
        default: return nil
        }
    }

    /// True when a string reads back as the same string without quotes.
    static func plainSafe(_ s: String) -> Bool {
        guard let first = s.first, !s.hasSuffix(" "), !s.hasSuffix(":") else { return false }
        if first.isNumber || first == "-" || first == "." || first == "+" { return false }
        if ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"].contains(s.lowercased()) { return false }
        return s.allSatisfy { $0.isLetter || $0.isNumber || "_-./@".contains($0) }
    }

    static func key(_ k: String) -> String {
        let plain = !k.isEmpty && k.allSatisfy { $0.isLetter || $0.isNumber || "_-./".contains($0) } && !(k.first?.isNumber ?? true)
        return plain ? k : JSONValue.string(k).serialized()
    }

    static func emit(_ value: JSONValue, indent: Int, into out: inout String, inline: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case let .object(pairs) where !pairs.isEmpty:
            for (i, (k, v)) in pairs.enumerated() {
                out += (inline && i == 0) ? "" : pad
                if let s = scalar(v) {
                    out += "\(key(k)): \(s)\n"
                } else {
                    out += "\(key(k)):\n"
                    emit(v, indent: indent + 2, into: &out, inline: false)
                }
            }
        case let .array(items) where !items.isEmpty:
            for item in items {
                out += pad + "- "
                if let s = scalar(item) { out += s + "\n" } else { emit(item, indent: indent + 2, into: &out, inline: true) }
            }
        default:
            out += (inline ? "" : pad) + (scalar(value) ?? "") + "\n"
        }
    }
}
