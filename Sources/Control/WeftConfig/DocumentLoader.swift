import WeftCore
import Yams

/// Turns YAML or JSON text (one or many documents) into JSON-shaped values, within `DocumentLimits`: no input
/// can make it recurse without bound or expand aliases into more values than the limit (a "billion laughs" of a
/// few hundred bytes is refused in microseconds, as Kubernetes refuses it).
public enum DocumentLoader {
    /// Parses every document of `text`; empty documents are skipped. Throws a diagnostic naming `file` and line.
    public static func documents(_ text: String, file: String, limits: DocumentLimits = .standard) throws(Diagnostic) -> [JSONValue] {
        do {
            return try parse(text, limits: limits)
        } catch let d as Diagnostic {
            throw Diagnostic(file: file, path: d.path, message: d.message)
        } catch {
            // IPv6 addresses in flow lists that libyaml refuses and Kubernetes reads: quoted, then parsed again.
            if let quoted = FlowColonScalars.quote(text), let values = try? parse(quoted, limits: limits) { return values }
            throw Diagnostic(file: file, message: "not valid YAML or JSON: \(error)")
        }
    }

    static func parse(_ text: String, limits: DocumentLimits) throws -> [JSONValue] {
        do {
            try limits.preScan(text)
            var out: [JSONValue] = []
            var budget = limits.maxValues
            var count = 0
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                count += 1
                guard count <= limits.maxDocuments else {
                    throw Diagnostic(message: "more than \(limits.maxDocuments) documents in one input")
                }
                // Counted and depth-checked first without building anything, so an alias bomb costs
                // microseconds, not gigabytes; `convert` then only builds what fits.
                try measure(node, depth: 0, budget: &budget, limits: limits)
                let value = try convert(node)
                if value != .null { out.append(value) }
            }
            return out
        }
    }

    static func line(_ mark: Mark?) -> String { "line \((mark?.line).map(String.init) ?? "?")" }

    /// Walks `node` as `convert` will, spending `budget` per value and checking depth, without allocating.
    /// Aliases are resolved by the parser into shared nodes: each use counts again, so expansion is bounded.
    static func measure(_ node: Node, depth: Int, budget: inout Int, limits: DocumentLimits) throws {
        budget -= 1
        guard budget >= 0 else {
            throw Diagnostic(message: "\(line(node.mark)): more than \(limits.maxValues) values once YAML aliases are expanded")
        }
        guard depth <= limits.maxDepth else {
            throw Diagnostic(message: "\(line(node.mark)): nested deeper than \(limits.maxDepth) levels")
        }
        switch node {
        case .scalar, .alias: return
        case let .sequence(seq):
            for n in seq { try measure(n, depth: depth + 1, budget: &budget, limits: limits) }
        case let .mapping(map):
            for (_, v) in map { try measure(v, depth: depth + 1, budget: &budget, limits: limits) }
        }
    }

    /// Builds the JSON value of a node `measure` accepted.
    static func convert(_ node: Node) throws -> JSONValue {
        switch node {
        case let .scalar(s):
            if s.style != .plain && s.style != .any { return .string(s.string) }
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(s.string)
            // YAML 1.1's base-60 numbers (`1:30`) are strings to Kubernetes, and IPv6 addresses look like them.
            case .int where !s.string.contains(":"): return node.int.map { .number(Double($0)) } ?? .string(s.string)
            case .float where !s.string.contains(":"): return node.float.map(JSONValue.number) ?? .string(s.string)
            default: return .string(s.string)
            }
        case let .sequence(seq):
            return .array(try seq.map(convert))
        case let .mapping(map):
            var pairs: [(String, JSONValue)] = []
            for (k, v) in map {
                guard let key = k.scalar?.string else {
                    throw Diagnostic(message: "\(line(k.mark)): mapping keys must be strings")
                }
                pairs.append((key, try convert(v)))
            }
            return .object(pairs)
        case let .alias(a):
            throw Diagnostic(message: "\(line(a.mark)): unresolved YAML alias")
        }
    }
}

/// Bounds on what one YAML or JSON input may hold, checked before and while it is parsed.
public struct DocumentLimits: Sendable {
    /// Values (scalars, lists, maps) in the whole input, counting each use of a YAML alias again.
    public var maxValues = 1_000_000
    /// Nesting of lists and maps.
    public var maxDepth = 64
    /// Documents (`---`) in one input.
    public var maxDocuments = 10_000
    /// Columns of indentation, so the parser's own recursion stays bounded before `maxDepth` is checked.
    public var maxIndent = 256

    public static let standard = DocumentLimits()
    /// Bytes after which a scalar may start: space, tab, newline, `:`, `,`, `[`, `{`, `-`, `?`.
    static let scalarStarts: Set<UInt8> = [0x20, 0x09, 0x0A, 0x3A, 0x2C, 0x5B, 0x7B, 0x2D, 0x3F]

    public init() {}

    /// A cheap pass over the text that bounds how deep the parser could recurse: flow nesting (`[`, `{` outside
    /// quotes and comments), compact block sequences (`- - - x`) and indentation.
    func preScan(_ text: String) throws {
        var flow = 0, lineNo = 1, column = 0, indent = true, dashes = 0
        var quote: UInt8? = nil, comment = false, previous: UInt8 = 0x0A
        for c in text.utf8 {
            if c == 0x0A {
                lineNo += 1
                column = 0
                indent = true
                dashes = 0
                comment = false
                previous = c  // a quoted scalar may go on over lines
                continue
            }
            column += 1
            if comment { continue }
            if let q = quote {
                if c == q && previous != 0x5C { quote = nil }
                previous = c
                continue
            }
            if indent {
                if c == 0x20 {
                    if column > maxIndent { throw Diagnostic(message: "line \(lineNo): indented more than \(maxIndent) columns") }
                    previous = c
                    continue
                }
                if c == 0x2D || c == 0x3F {  // "- " or "? " opening a compact nested node
                    dashes += 1
                    if dashes > maxDepth { throw Diagnostic(message: "line \(lineNo): nested deeper than \(maxDepth) levels") }
                    previous = c
                    continue
                }
                indent = false
            }
            switch c {
            case 0x23 where previous == 0x20 || previous == 0x0A || previous == 0x09: comment = true
            // A quote opens a quoted scalar only where one can start (not the apostrophe in "it's").
            case 0x22, 0x27:
                if Self.scalarStarts.contains(previous) { quote = c }
            case 0x5B, 0x7B:
                flow += 1
                if flow > maxDepth { throw Diagnostic(message: "line \(lineNo): nested deeper than \(maxDepth) levels") }
            case 0x5D, 0x7D: flow = max(0, flow - 1)
            default: break
            }
            previous = c
        }
    }
}

extension DocumentLoader {
    /// The one YAML or JSON document of a settings file (mesh.yaml, a limits file), as an object read into `ctx`:
    /// no document, several, or one that is not an object is an error naming the file.
    public static func singleObject(_ text: String, file: String, ctx: DecodeContext) throws(DiagnosticError) -> ObjectReader {
        let docs: [JSONValue]
        do { docs = try documents(text, file: file) } catch { throw DiagnosticError([error]) }
        guard docs.count == 1 else {
            throw DiagnosticError([Diagnostic(file: file, message: docs.isEmpty ? "the file is empty" : "must hold one YAML document, found \(docs.count)")])
        }
        guard let top = ObjectReader(docs[0], path: "", ctx: ctx) else { throw DiagnosticError(ctx.diagnostics) }
        return top
    }
}
