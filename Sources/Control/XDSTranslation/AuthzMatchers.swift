import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftCore

typealias Permission = Envoy_Config_Rbac_V3_Permission
typealias Principal = Envoy_Config_Rbac_V3_Principal

/// The pieces of Envoy RBAC rules that AuthorizationPolicy values become, as Istio writes them: a value with `*`
/// at one end is a prefix or suffix match, `*` alone matches anything present; principals are SPIFFE URIs;
/// request principals and claims are read from the JWT filter's metadata.
enum AuthzMatch {
    static let never: Permission = { var p = Permission(); p.notRule = anyPermission; return p }()
    static let anyPermission: Permission = { var p = Permission(); p.any = true; return p }()
    static let anyPrincipal: Principal = { var p = Principal(); p.any = true; return p }()

    /// `v` as a string matcher with `prefix` before it; nil for `*` (anything).
    static func string(_ v: String, prefix: String = "", ignoreCase: Bool = false) -> Envoy_Type_Matcher_V3_StringMatcher? {
        var m = Envoy_Type_Matcher_V3_StringMatcher()
        m.ignoreCase = ignoreCase
        if v == "*" { return nil }
        if v.hasSuffix("*") { m.prefix = prefix + v.dropLast() }
        else if v.hasPrefix("*") { m.suffix = String(v.dropFirst()) }
        else { m.exact = prefix + v }
        return m
    }

    static func or(_ ps: [Permission]) -> Permission {
        if ps.count == 1 { return ps[0] }
        var p = Permission(); var s = Permission.Set(); s.rules = ps; p.orRules = s; return p
    }

    static func and(_ ps: [Permission]) -> Permission {
        if ps.isEmpty { return anyPermission }
        if ps.count == 1 { return ps[0] }
        var p = Permission(); var s = Permission.Set(); s.rules = ps; p.andRules = s; return p
    }

    static func not(_ p: Permission) -> Permission { var n = Permission(); n.notRule = p; return n }

    static func or(_ ps: [Principal]) -> Principal {
        if ps.count == 1 { return ps[0] }
        var p = Principal(); var s = Principal.Set(); s.ids = ps; p.orIds = s; return p
    }

    static func and(_ ps: [Principal]) -> Principal {
        if ps.isEmpty { return anyPrincipal }
        if ps.count == 1 { return ps[0] }
        var p = Principal(); var s = Principal.Set(); s.ids = ps; p.andIds = s; return p
    }

    static func not(_ p: Principal) -> Principal { var n = Principal(); n.notID = p; return n }

    static func header(_ name: String, _ v: String, ignoreCase: Bool = false) -> Envoy_Config_Route_V3_HeaderMatcher {
        var h = Envoy_Config_Route_V3_HeaderMatcher()
        h.name = name
        if let m = string(v, ignoreCase: ignoreCase) { h.stringMatch = m } else { h.presentMatch = true }
        return h
    }

    static func cidr(_ text: String) -> Envoy_Config_Core_V3_CidrRange {
        var c = Envoy_Config_Core_V3_CidrRange()
        let block = CIDRText(text) ?? CIDRText(bytes: [0, 0, 0, 0], prefixLength: 32)
        c.addressPrefix = block.addressText
        c.prefixLen = Google_Protobuf_UInt32Value(UInt32(block.prefixLength))
        return c
    }

    /// An mTLS peer whose SPIFFE ID matches `v` (Istio's principal form, without `spiffe://`).
    static func principal(_ v: String) -> Principal {
        var a = Principal.Authenticated()
        if let m = string(v, prefix: SpiffeID.scheme) { a.principalName = m }
        var p = Principal(); p.authenticated = a; return p
    }

    /// An mTLS peer of namespace `v` (`*` at either end allowed).
    static func namespace(_ v: String, trustDomain: String) -> Principal {
        var a = Principal.Authenticated()
        var m = Envoy_Type_Matcher_V3_StringMatcher()
        if v == "*" {
            m.safeRegex = Proto.regex(#"spiffe://[^/]+/ns/[^/]+/.*"#)
        } else if v.hasSuffix("*") {
            m.safeRegex = Proto.regex(#"spiffe://[^/]+/ns/"# + escape(String(v.dropLast())) + "[^/]*/.*")
        } else if v.hasPrefix("*") {
            m.safeRegex = Proto.regex(#"spiffe://[^/]+/ns/[^/]*"# + escape(String(v.dropFirst())) + "/.*")
        } else {
            m.prefix = "\(SpiffeID.scheme)\(trustDomain)/ns/\(v)/"
        }
        a.principalName = m
        var p = Principal(); p.authenticated = a; return p
    }

    /// RE2 text matching `s` literally.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if #"\.+*?()|[]{}^$"#.contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// A claim of the verified JWT (`path` below the payload) with the string value `v`, or containing it when
    /// the claim is a list; `*`: present.
    static func claim(_ path: [String], _ v: String) -> Principal {
        var value = Envoy_Type_Matcher_V3_ValueMatcher()
        if let m = string(v) {
            var asString = Envoy_Type_Matcher_V3_ValueMatcher(); asString.stringMatch = m
            var list = Envoy_Type_Matcher_V3_ListMatcher(); list.oneOf = asString
            var inList = Envoy_Type_Matcher_V3_ValueMatcher(); inList.listMatch = list
            var or = Envoy_Type_Matcher_V3_OrMatcher(); or.valueMatchers = [asString, inList]
            value.orMatch = or
        } else {
            value.presentMatch = true
        }
        return metadata(path, value)
    }

    static func claimString(_ path: [String], _ m: Envoy_Type_Matcher_V3_StringMatcher?) -> Principal {
        var value = Envoy_Type_Matcher_V3_ValueMatcher()
        if let m { value.stringMatch = m } else { value.presentMatch = true }
        return metadata(path, value)
    }

    static func metadata(_ path: [String], _ value: Envoy_Type_Matcher_V3_ValueMatcher) -> Principal {
        var mm = Envoy_Type_Matcher_V3_MetadataMatcher()
        mm.filter = JWTMetadata.filter
        mm.path = ([JWTMetadata.payloadKey] + path).map { k in
            var s = Envoy_Type_Matcher_V3_MetadataMatcher.PathSegment(); s.key = k; return s
        }
        mm.value = value
        var p = Principal(); p.metadata = mm; return p
    }

    /// A request principal (`iss/sub` of the verified token) as matchers on the token's `iss` and `sub` claims.
    /// The issuer is found among the workload's JWT issuers when it can be (issuers contain `/`), else the text
    /// splits at its last `/`.
    static func requestPrincipal(_ v: String, issuers: [String]) -> Principal {
        func exact(_ s: String) -> Envoy_Type_Matcher_V3_StringMatcher { Proto.stringMatcher(exact: s) }
        if v == "*" { return claimString(["iss"], nil) }
        if v.hasSuffix("*") {
            let text = String(v.dropLast())
            if let iss = issuers.first(where: { text.hasPrefix($0 + "/") }) {
                var sub = Envoy_Type_Matcher_V3_StringMatcher(); sub.prefix = String(text.dropFirst(iss.count + 1))
                return and([claimString(["iss"], exact(iss)), sub.prefix.isEmpty ? claimString(["sub"], nil) : claimString(["sub"], sub)])
            }
            var iss = Envoy_Type_Matcher_V3_StringMatcher(); iss.prefix = text
            return and([claimString(["iss"], iss), claimString(["sub"], nil)])
        }
        if v.hasPrefix("*") {
            let text = String(v.dropFirst())
            guard let slash = text.lastIndex(of: "/") else {
                var sub = Envoy_Type_Matcher_V3_StringMatcher(); sub.suffix = text
                return and([claimString(["iss"], nil), claimString(["sub"], sub)])
            }
            var iss = Envoy_Type_Matcher_V3_StringMatcher(); iss.suffix = String(text[..<slash])
            return and([claimString(["iss"], iss), claimString(["sub"], exact(String(text[text.index(after: slash)...])))])
        }
        let iss = issuers.first { v.hasPrefix($0 + "/") }
            ?? v.lastIndex(of: "/").map { String(v[..<$0]) } ?? v
        let sub = v.count > iss.count ? String(v.dropFirst(iss.count + 1)) : ""
        return and([claimString(["iss"], exact(iss)), claimString(["sub"], exact(sub))])
    }
}
