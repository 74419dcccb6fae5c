import EnvoyAPI
import ProxyConfig
import WeftCore

/// The matchers RBAC rules are made of, with Envoy's meaning: string matchers over bytes (`ignore_case` for
/// literals only), header matchers with Envoy's missing-header rules, metadata and value matchers, CIDR ranges.
extension XDSConversion {
    /// A StringMatcher; prefix, suffix and contains must not be empty (Envoy's validation refuses them too).
    static func textMatcher(_ m: Envoy_Type_Matcher_V3_StringMatcher) throws -> TextMatcher {
        func literal(_ s: String, _ name: String, _ make: (String, Bool) -> TextMatcher) throws -> TextMatcher {
            guard !s.isEmpty else { throw FieldError("must not be empty", at: [name]) }
            return make(s, m.ignoreCase)
        }
        switch m.matchPattern {
        case let .exact(s)?: return .exact(s, ignoreCase: m.ignoreCase)
        case let .prefix(s)?: return try literal(s, "prefix") { .prefix($0, ignoreCase: $1) }
        case let .suffix(s)?: return try literal(s, "suffix") { .suffix($0, ignoreCase: $1) }
        case let .contains(s)?: return try literal(s, "contains") { .contains($0, ignoreCase: $1) }
        case let .safeRegex(r)?: return .regex(try field("safe_regex") { try regex(r) })
        case nil: throw FieldError("no match pattern (exact, prefix, suffix, contains or safe_regex)")
        }
    }

    static func pathMatcher(_ m: Envoy_Type_Matcher_V3_PathMatcher) throws -> TextMatcher {
        guard case let .path(s)? = m.rule else { throw FieldError("a path matcher needs `path`") }
        return try field("path") { try textMatcher(s) }
    }

    /// A header matcher as RBAC evaluates it (Envoy's HeaderUtility::matchHeaders).
    static func rbacHeader(_ h: Envoy_Config_Route_V3_HeaderMatcher) throws -> RBACHeaderMatcher {
        guard !h.name.isEmpty else { throw FieldError("header name is empty", at: ["name"]) }
        let kind: RBACHeaderMatcher.Kind
        switch h.headerMatchSpecifier {
        case let .exactMatch(s)?: kind = s.isEmpty ? .anyValue : .text(.exact(s))
        case let .presentMatch(b)?: kind = .present(b)
        case let .prefixMatch(s)?: kind = .text(try field("prefix_match") { try textMatcher(.init(prefix: s)) })
        case let .suffixMatch(s)?: kind = .text(try field("suffix_match") { try textMatcher(.init(suffix: s)) })
        case let .containsMatch(s)?: kind = .text(try field("contains_match") { try textMatcher(.init(contains: s)) })
        case let .safeRegexMatch(r)?: kind = .text(.regex(try field("safe_regex_match") { try regex(r) }))
        case let .stringMatch(m)?: kind = .text(try field("string_match") { try textMatcher(m) })
        case nil: kind = .present(true)  // Envoy: no specifier means the header must be present
        }
        return RBACHeaderMatcher(name: h.name, kind: kind, invert: h.invertMatch, missingAsEmpty: h.treatMissingHeaderAsEmpty)
    }

    static func metadataMatcher(_ m: Envoy_Type_Matcher_V3_MetadataMatcher) throws -> RBACMetadataMatcher {
        guard !m.filter.isEmpty else { throw FieldError("filter is empty", at: ["filter"]) }
        guard !m.path.isEmpty else { throw FieldError("a metadata matcher needs a path", at: ["path"]) }
        let path = try each("path", m.path) { seg -> String in
            guard case let .key(k)? = seg.segment, !k.isEmpty else { throw FieldError("a path segment needs a non-empty key", at: ["key"]) }
            return k
        }
        guard m.hasValue else { throw FieldError("a metadata matcher needs a value matcher", at: ["value"]) }
        return RBACMetadataMatcher(filter: m.filter, path: path, value: try field("value") { try valueMatcher(m.value) }, invert: m.invert)
    }

    static func valueMatcher(_ v: Envoy_Type_Matcher_V3_ValueMatcher) throws -> ValueMatcher {
        switch v.matchPattern {
        case .nullMatch?: return .null
        case let .doubleMatch(d)?:
            switch d.matchPattern {
            case let .exact(x)?: return .number(x)
            case let .range(r)?: return .numberRange(r.start, r.end)
            case nil: throw FieldError("a double matcher needs exact or range", at: ["double_match"])
            }
        case let .stringMatch(s)?: return .string(try field("string_match") { try textMatcher(s) })
        case let .boolMatch(b)?: return .bool(b)
        case let .presentMatch(b)?: return .present(b)
        case let .listMatch(l)?:
            guard case let .oneOf(inner)? = l.matchPattern else { throw FieldError("a list matcher needs one_of", at: ["list_match"]) }
            return .listOneOf(try field("list_match.one_of") { try valueMatcher(inner) })
        case let .orMatch(o)?:
            guard !o.valueMatchers.isEmpty else { throw FieldError("needs at least one value matcher", at: ["or_match", "value_matchers"]) }
            return .or(try field("or_match") { try each("value_matchers", o.valueMatchers, valueMatcher) })
        case nil: throw FieldError("a value matcher needs a match pattern")
        }
    }

    /// A CIDR range: `address_prefix` an IPv4 or IPv6 address, `prefix_len` (0 when unset, as in Envoy) at most its
    /// length in bits.
    static func cidr(_ c: Envoy_Config_Core_V3_CidrRange) throws -> CIDRText {
        guard let bytes = CIDRText.address(c.addressPrefix) else {
            throw FieldError("'\(c.addressPrefix)' is not an IP address", at: ["address_prefix"])
        }
        let length = c.hasPrefixLen ? Int(c.prefixLen.value) : 0
        guard length <= bytes.count * 8 else { throw FieldError("must be at most \(bytes.count * 8)", at: ["prefix_len"]) }
        return CIDRText(bytes: bytes, prefixLength: length)
    }
}

extension Envoy_Type_Matcher_V3_StringMatcher {
    init(prefix: String) { self.init(); self.prefix = prefix }
    init(suffix: String) { self.init(); self.suffix = suffix }
    init(contains: String) { self.init(); self.contains = contains }
}
