import Foundation

/// A compiled regular expression (compiled once when config is applied; immutable and shareable).
public final class CompiledRegex: @unchecked Sendable {
    public let pattern: String
    let regex: NSRegularExpression

    public init(_ pattern: String) throws {
        self.pattern = pattern
        // RE2 semantics for full matches: anchor the whole pattern.
        self.regex = try NSRegularExpression(pattern: "^(?:\(pattern))$")
    }

    public func fullMatch(_ s: Substring) -> Bool {
        let str = String(s)
        return regex.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) != nil
    }

    public func replace(_ s: String, with template: String) -> String {
        // Envoy's substitution uses \1 for groups; NSRegularExpression uses $1.
        let unanchored = try? NSRegularExpression(pattern: pattern)
        let t = template.replacingOccurrences(of: "\\\\([0-9])", with: "\\$$1", options: .regularExpression)
        return unanchored?.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: t) ?? s
    }
}

public enum StringMatcher: Sendable {
    case exact(String)
    case prefix(String)
    case suffix(String)
    case contains(String)
    case regex(CompiledRegex)
}

public struct HeaderMatcher: Sendable {
    public enum Kind: Sendable {
        case present(Bool)
        case string(StringMatcher)
    }
    public var name: String
    public var kind: Kind
    public var invert: Bool

    public init(name: String, kind: Kind, invert: Bool = false) {
        self.name = name
        self.kind = kind
        self.invert = invert
    }
}

public struct QueryMatcher: Sendable {
    public var name: String
    /// nil means the parameter must be present.
    public var matcher: StringMatcher?

    public init(name: String, matcher: StringMatcher?) {
        self.name = name
        self.matcher = matcher
    }
}

public struct RouteMatch: Sendable {
    public enum Path: Sendable {
        case prefix(String)
        case exact(String)
        case regex(CompiledRegex)
        case separatedPrefix(String)
    }
    public var path: Path
    public var caseSensitive: Bool
    public var headers: [HeaderMatcher]
    public var query: [QueryMatcher]
    /// Parts per million of requests that match (runtime_fraction); nil means all.
    public var fractionPerMillion: Int?

    public init(path: Path, caseSensitive: Bool = true, headers: [HeaderMatcher] = [], query: [QueryMatcher] = [],
                fractionPerMillion: Int? = nil) {
        self.path = path
        self.caseSensitive = caseSensitive
        self.headers = headers
        self.query = query
        self.fractionPerMillion = fractionPerMillion
    }

    /// The literal prefix (or exact path) this match consumed, for prefix rewrites.
    public var matchedPrefix: String? {
        switch path {
        case let .prefix(x), let .exact(x), let .separatedPrefix(x): return x
        case .regex: return nil
        }
    }
}
