/// Envoy's `StringMatcher` as authorization and authentication read it: exact, prefix, suffix or contains over the
/// bytes of the text, `ignore_case` folding ASCII letters only (Envoy's absl helpers do the same), or a full-match
/// regular expression, on which `ignore_case` has no effect (as in Envoy). The literal is folded once, when config
/// arrives, so a match compares bytes and allocates nothing. A class: rules hold many and pass them around on every
/// request, so a copy is one reference.
public final class TextMatcher: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case exact, prefix, suffix, contains
        case regex(CompiledRegex)
    }
    public let kind: Kind
    /// The literal (ASCII-lowercased when `ignoreCase`); empty for a regex.
    public let literal: String
    public let ignoreCase: Bool
    /// The literal's bytes, compared against the text's contiguous UTF-8.
    let bytes: [UInt8]

    public init(_ kind: Kind, _ literal: String = "", ignoreCase: Bool = false) {
        self.kind = kind
        if case .regex = kind { self.ignoreCase = false } else { self.ignoreCase = ignoreCase }
        bytes = self.ignoreCase ? literal.utf8.map(Self.fold) : Array(literal.utf8)
        self.literal = String(decoding: bytes, as: UTF8.self)
    }

    public static func exact(_ s: String, ignoreCase: Bool = false) -> TextMatcher { TextMatcher(.exact, s, ignoreCase: ignoreCase) }
    public static func prefix(_ s: String, ignoreCase: Bool = false) -> TextMatcher { TextMatcher(.prefix, s, ignoreCase: ignoreCase) }
    public static func suffix(_ s: String, ignoreCase: Bool = false) -> TextMatcher { TextMatcher(.suffix, s, ignoreCase: ignoreCase) }
    public static func contains(_ s: String, ignoreCase: Bool = false) -> TextMatcher { TextMatcher(.contains, s, ignoreCase: ignoreCase) }
    public static func regex(_ r: CompiledRegex) -> TextMatcher { TextMatcher(.regex(r)) }

    @inline(__always) static func fold(_ b: UInt8) -> UInt8 { b &- 65 < 26 ? b | 0x20 : b }

    public func matches(_ s: String) -> Bool {
        if case let .regex(r) = kind { return r.fullMatch(Substring(s)) }
        var s = s
        return s.withUTF8(match)
    }

    public func matches(_ s: Substring) -> Bool {
        if case let .regex(r) = kind { return r.fullMatch(s) }
        var s = s
        return s.withUTF8(match)
    }

    func match(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = bytes.count
        switch kind {
        case .regex: return false
        case .exact: return text.count == n && equal(text, at: 0)
        case .prefix: return text.count >= n && equal(text, at: 0)
        case .suffix: return text.count >= n && equal(text, at: text.count - n)
        case .contains:
            guard text.count >= n else { return false }
            for at in 0...(text.count - n) where equal(text, at: at) { return true }
            return false
        }
    }

    /// Whether the literal is at `at` in `text` (which has room for it).
    @inline(__always) func equal(_ text: UnsafeBufferPointer<UInt8>, at: Int) -> Bool {
        bytes.withUnsafeBufferPointer { lit in
            if ignoreCase {
                for i in 0..<lit.count where Self.fold(text[at + i]) != lit[i] { return false }
            } else {
                for i in 0..<lit.count where text[at + i] != lit[i] { return false }
            }
            return true
        }
    }

    public static func == (a: TextMatcher, b: TextMatcher) -> Bool {
        a.kind == b.kind && a.literal == b.literal && a.ignoreCase == b.ignoreCase
    }
}

extension CompiledRegex: Equatable {
    /// Two compiled expressions are the same when their patterns are (config comparisons).
    public static func == (a: CompiledRegex, b: CompiledRegex) -> Bool { a.pattern == b.pattern }
}

/// Envoy's route `HeaderMatcher` as RBAC uses it: the header's values joined with `,`, a missing header matching
/// only `present_match: false` (with `invert_match` only `present_match: true`), unless
/// `treat_missing_header_as_empty` reads it as "" (Envoy's HeaderUtility::matchHeaders). Names are lowercased
/// when config arrives; `:method`, `:authority` and `:path` are the request's pseudo-headers.
public final class RBACHeaderMatcher: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case present(Bool)
        case text(TextMatcher)
        /// The deprecated `exact_match` with an empty value: any value matches.
        case anyValue
    }
    public let name: String
    public let kind: Kind
    public let invert: Bool
    public let missingAsEmpty: Bool

    public init(name: String, kind: Kind, invert: Bool = false, missingAsEmpty: Bool = false) {
        self.name = name.lowercased()
        self.kind = kind
        self.invert = invert
        self.missingAsEmpty = missingAsEmpty
    }

    public static func == (a: RBACHeaderMatcher, b: RBACHeaderMatcher) -> Bool {
        a.name == b.name && a.kind == b.kind && a.invert == b.invert && a.missingAsEmpty == b.missingAsEmpty
    }

    /// Whether the header's value (nil: absent) matches.
    public func matches(_ value: String?) -> Bool {
        guard let value = value ?? (missingAsEmpty ? "" : nil) else {
            if case let .present(want) = kind { return invert ? want : !want }
            return false
        }
        let result: Bool
        switch kind {
        case let .present(want): result = want
        case let .text(m): result = m.matches(value)
        case .anyValue: result = true
        }
        return result != invert
    }
}
