import EnvoyAPI
import Foundation
import ProxyConfig
import ProxyRouting

/// Matchers and header edits: the small building blocks of route configurations.
extension XDSConversion {
    static func regex(_ m: Envoy_Type_Matcher_V3_RegexMatcher, ignoreCase: Bool = false) throws -> CompiledRegex {
        try field("regex") {
            do {
                return try CompiledRegex(ignoreCase ? "(?i)(?:\(m.regex))" : m.regex)
            } catch {
                throw FieldError("invalid regular expression '\(m.regex)'")
            }
        }
    }

    /// ProxyRouting's StringMatcher has no per-matcher ignore_case, so a case-insensitive literal becomes an
    /// escaped `(?i)` regex with the same meaning.
    static func stringMatcher(_ m: Envoy_Type_Matcher_V3_StringMatcher) throws -> StringMatcher {
        func literal(_ s: String, _ pre: String, _ post: String, _ plain: StringMatcher) throws -> StringMatcher {
            guard m.ignoreCase else { return plain }
            return .regex(try CompiledRegex("(?i)" + pre + NSRegularExpression.escapedPattern(for: s) + post))
        }
        switch m.matchPattern {
        case let .exact(s)?: return try literal(s, "", "", .exact(s))
        case let .prefix(s)?: return try literal(s, "", ".*", .prefix(s))
        case let .suffix(s)?: return try literal(s, ".*", "", .suffix(s))
        case let .contains(s)?: return try literal(s, ".*", ".*", .contains(s))
        case let .safeRegex(r)?: return .regex(try field("safe_regex") { try regex(r, ignoreCase: m.ignoreCase) })
        case nil: throw FieldError("no match pattern (exact, prefix, suffix, contains or safe_regex)")
        }
    }

    static func headerMatcher(_ h: Envoy_Config_Route_V3_HeaderMatcher) throws -> HeaderMatcher {
        guard !h.name.isEmpty else { throw FieldError("header name is empty", at: ["name"]) }
        if h.treatMissingHeaderAsEmpty {
            throw FieldError("treat_missing_header_as_empty is not supported", at: ["treat_missing_header_as_empty"])
        }
        let kind: HeaderMatcher.Kind
        switch h.headerMatchSpecifier {
        case let .exactMatch(s)?: kind = .string(.exact(s))
        case let .presentMatch(b)?: kind = .present(b)
        case let .prefixMatch(s)?: kind = .string(.prefix(s))
        case let .suffixMatch(s)?: kind = .string(.suffix(s))
        case let .containsMatch(s)?: kind = .string(.contains(s))
        case let .safeRegexMatch(r)?: kind = .string(.regex(try field("safe_regex_match") { try regex(r) }))
        case let .stringMatch(m)?: kind = .string(try field("string_match") { try stringMatcher(m) })
        case nil: kind = .present(true)  // Envoy: no specifier means the header must be present
        }
        return HeaderMatcher(name: h.name.lowercased(), kind: kind, invert: h.invertMatch)
    }

    static func queryMatcher(_ q: Envoy_Config_Route_V3_QueryParameterMatcher) throws -> QueryMatcher {
        guard !q.name.isEmpty else { throw FieldError("parameter name is empty", at: ["name"]) }
        switch q.queryParameterMatchSpecifier {
        case let .stringMatch(m)?: return QueryMatcher(name: q.name, matcher: try field("string_match") { try stringMatcher(m) })
        case let .presentMatch(b)?:
            guard b else { throw FieldError("present_match: false is not supported", at: ["present_match"]) }
            return QueryMatcher(name: q.name, matcher: nil)
        case nil: return QueryMatcher(name: q.name, matcher: nil)
        }
    }

    /// `*_headers_to_add` and `*_headers_to_remove` as set/append/remove edits.
    static func headerEdits(add: [Envoy_Config_Core_V3_HeaderValueOption], remove: [String], addField: String) throws -> HeaderEdits {
        var edits = HeaderEdits(remove: remove.map { $0.lowercased() })
        _ = try each(addField, add) { o -> Void in
            let name = o.header.key.lowercased()
            guard !name.isEmpty else { throw FieldError("header key is empty", at: ["header", "key"]) }
            let append: Bool
            if o.hasAppend {
                append = o.append.value  // deprecated field, still honoured by Envoy when set
            } else {
                switch o.appendAction {
                case .appendIfExistsOrAdd: append = true
                case .overwriteIfExistsOrAdd: append = false
                case .addIfAbsent, .overwriteIfExists, .UNRECOGNIZED:
                    throw FieldError("append_action \(o.appendAction) is not supported", at: ["append_action"])
                }
            }
            if append { edits.append.append((name, o.header.value)) } else { edits.set.append((name, o.header.value)) }
        }
        return edits
    }
}
