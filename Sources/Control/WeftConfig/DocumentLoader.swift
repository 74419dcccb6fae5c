import WeftCore
import Yams

/// Turns YAML or JSON text (one or many documents) into JSON-shaped values.
public enum DocumentLoader {
    /// Parses every document of `text`; empty documents are skipped. Throws a diagnostic naming `file` and line.
    public static func documents(_ text: String, file: String) throws(Diagnostic) -> [JSONValue] {
        do {
            var out: [JSONValue] = []
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                let value = try convert(node)
                if value != .null { out.append(value) }
            }
            return out
        } catch let d as Diagnostic {
            throw Diagnostic(file: file, path: d.path, message: d.message)
        } catch {
            throw Diagnostic(file: file, message: "not valid YAML or JSON: \(error)")
        }
    }

    static func convert(_ node: Node) throws -> JSONValue {
        switch node {
        case let .scalar(s):
            if s.style != .plain && s.style != .any { return .string(s.string) }
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(s.string)
            case .int: return node.int.map { .number(Double($0)) } ?? .string(s.string)
            case .float: return node.float.map(JSONValue.number) ?? .string(s.string)
            default: return .string(s.string)
            }
        case let .sequence(seq):
            return .array(try seq.map(convert))
        case let .mapping(map):
            var pairs: [(String, JSONValue)] = []
            for (k, v) in map {
                guard let key = k.scalar?.string else {
                    throw Diagnostic(message: "line \((k.mark?.line).map(String.init) ?? "?"): mapping keys must be strings")
                }
                pairs.append((key, try convert(v)))
            }
            return .object(pairs)
        case let .alias(a):
            throw Diagnostic(message: "line \((a.mark?.line).map(String.init) ?? "?"): YAML aliases are not supported")
        }
    }
}
