/// The part of CEL that an access log `filter.expression` may use in Weft: comparisons of `response.code` with a
/// number, and of `request.method`, `request.path`, `request.host` or `request.headers['name']` with a string,
/// joined by `&&`, `||`, `!` and parentheses. Both data planes evaluate exactly this (Envoy through its
/// native access log filters), so anything else is refused rather than guessed.
public indirect enum LogFilter: Hashable, Sendable {
    public enum Comparison: String, Sendable, CaseIterable {
        case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="

        var flipped: Comparison {
            switch self {
            case .eq, .ne: return self
            case .lt: return .gt
            case .le: return .ge
            case .gt: return .lt
            case .ge: return .le
            }
        }

        var negated: Comparison {
            switch self {
            case .eq: return .ne
            case .ne: return .eq
            case .lt: return .ge
            case .le: return .gt
            case .gt: return .le
            case .ge: return .lt
            }
        }
    }

    /// `response.code OP n`.
    case status(Comparison, Int)
    /// A request header (lower-case, pseudo-headers as `:method`) equal, or with `equal: false` not equal, to a value.
    case header(String, value: String, equal: Bool)
    case and([LogFilter])
    case or([LogFilter])

    /// The expression parsed, with negations pushed down to the comparisons; or a plain-words reason.
    public static func parse(_ text: String) -> Result<LogFilter, LogFilterError> {
        var p = LogFilterParser(text)
        do {
            let e = try p.expression()
            guard p.atEnd else { throw LogFilterError(message: "unexpected '\(p.rest)'") }
            return .success(e)
        } catch let e as LogFilterError {
            return .failure(e)
        } catch {
            return .failure(LogFilterError(message: "\(error)"))
        }
    }

    /// The filter that holds exactly when this one does not.
    public var negated: LogFilter {
        switch self {
        case let .status(op, n): return .status(op.negated, n)
        case let .header(n, v, eq): return .header(n, value: v, equal: !eq)
        case let .and(xs): return .or(xs.map(\.negated))
        case let .or(xs): return .and(xs.map(\.negated))
        }
    }
}

public struct LogFilterError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Recursive descent over the CEL subset (see LogFilter).
struct LogFilterParser {
    enum Token: Equatable {
        case ident(String), number(Int), string(String), op(String), lparen, rparen, lbracket, rbracket, dot
    }
    private var tokens: [Token] = []
    private var i = 0
    private var lexError: LogFilterError?
    private let text: String

    init(_ text: String) {
        self.text = text
        do { tokens = try Self.lex(text) } catch let e as LogFilterError { lexError = e } catch {}
    }

    var atEnd: Bool { i >= tokens.count }
    var rest: String { tokens[i...].map { "\($0)" }.joined(separator: " ") }

    mutating func expression() throws -> LogFilter {
        if let lexError { throw lexError }
        guard !tokens.isEmpty else { throw LogFilterError(message: "the expression is empty") }
        return try disjunction()
    }

    private mutating func disjunction() throws -> LogFilter {
        var xs = [try conjunction()]
        while peek == .op("||") { i += 1; xs.append(try conjunction()) }
        return xs.count == 1 ? xs[0] : .or(xs)
    }

    private mutating func conjunction() throws -> LogFilter {
        var xs = [try unary()]
        while peek == .op("&&") { i += 1; xs.append(try unary()) }
        return xs.count == 1 ? xs[0] : .and(xs)
    }

    private mutating func unary() throws -> LogFilter {
        if peek == .op("!") { i += 1; return try unary().negated }
        if peek == .lparen {
            i += 1
            let e = try disjunction()
            guard next() == .rparen else { throw LogFilterError(message: "missing ')'") }
            return e
        }
        return try comparison()
    }

    private enum Operand { case code, header(String), number(Int), string(String) }

    private mutating func comparison() throws -> LogFilter {
        let left = try operand()
        guard case let .op(o)? = next(), let op = LogFilter.Comparison(rawValue: o) else {
            throw LogFilterError(message: "expected a comparison (==, !=, <, <=, >, >=)")
        }
        let right = try operand()
        switch (left, right) {
        case let (.code, .number(n)): return .status(op, n)
        case let (.number(n), .code): return .status(op.flipped, n)
        case let (.header(h), .string(s)), let (.string(s), .header(h)):
            guard op == .eq || op == .ne else { throw LogFilterError(message: "strings compare only with == or !=") }
            return .header(h, value: s, equal: op == .eq)
        case (.code, _), (_, .code): throw LogFilterError(message: "response.code compares with a whole number")
        case (.header, _), (_, .header): throw LogFilterError(message: "request attributes compare with a quoted string")
        default: throw LogFilterError(message: "a comparison needs one attribute (response.code, request.method, request.path, request.host, request.headers['name'])")
        }
    }

    private mutating func operand() throws -> Operand {
        switch next() {
        case let .number(n)?: return .number(n)
        case let .string(s)?: return .string(s)
        case let .ident(root)?:
            var path = [root]
            while peek == .dot {
                i += 1
                guard case let .ident(s)? = next() else { throw LogFilterError(message: "expected a name after '.'") }
                path.append(s)
            }
            let name = path.joined(separator: ".")
            if peek == .lbracket {
                guard name == "request.headers" else { throw LogFilterError(message: "only request.headers can be indexed") }
                i += 1
                guard case let .string(h)? = next(), next() == .rbracket else {
                    throw LogFilterError(message: "request.headers takes a quoted header name, as request.headers['x-user']")
                }
                return .header(h.lowercased())
            }
            switch name {
            case "response.code": return .code
            case "request.method": return .header(":method")
            case "request.path": return .header(":path")
            case "request.host": return .header(":authority")
            default:
                throw LogFilterError(message: "'\(name)' is not supported (use response.code, request.method, request.path, request.host or request.headers['name'])")
            }
        default: throw LogFilterError(message: "expected an attribute, a number or a quoted string")
        }
    }

    private var peek: Token? { i < tokens.count ? tokens[i] : nil }

    private mutating func next() -> Token? {
        defer { i += 1 }
        return peek
    }

    static func lex(_ text: String) throws -> [Token] {
        var out: [Token] = []
        let chars = Array(text)
        var k = 0
        while k < chars.count {
            let c = chars[k]
            if c.isWhitespace { k += 1; continue }
            if c.isLetter || c == "_" {
                var s = ""
                while k < chars.count, chars[k].isLetter || chars[k].isNumber || chars[k] == "_" { s.append(chars[k]); k += 1 }
                out.append(.ident(s))
                continue
            }
            if c.isNumber {
                var s = ""
                while k < chars.count, chars[k].isNumber { s.append(chars[k]); k += 1 }
                guard let n = Int(s), n <= Int(UInt32.max) else { throw LogFilterError(message: "number '\(s)' is too large") }
                out.append(.number(n))
                continue
            }
            if c == "'" || c == "\"" {
                var s = ""
                k += 1
                while k < chars.count, chars[k] != c {
                    if chars[k] == "\\", k + 1 < chars.count { k += 1 }
                    s.append(chars[k])
                    k += 1
                }
                guard k < chars.count else { throw LogFilterError(message: "unterminated string") }
                k += 1
                out.append(.string(s))
                continue
            }
            let two = k + 1 < chars.count ? String(chars[k...k + 1]) : ""
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) { out.append(.op(two)); k += 2; continue }
            switch c {
            case "<", ">", "!": out.append(.op(String(c)))
            case "(": out.append(.lparen)
            case ")": out.append(.rparen)
            case "[": out.append(.lbracket)
            case "]": out.append(.rbracket)
            case ".": out.append(.dot)
            default: throw LogFilterError(message: "unexpected character '\(c)'")
            }
            k += 1
        }
        return out
    }
}
