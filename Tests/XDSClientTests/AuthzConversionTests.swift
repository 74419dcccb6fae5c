import EnvoyAPI
import Foundation
import ProxyConfig
import ProxyRouting
import SwiftProtobuf
import Testing
import WeftCore
@testable import XDSClient

/// RBAC and JWT authentication in xDS, built by hand as weft control writes them for an inbound listener: what
/// converts, the stat names it gets, and what is refused (with the field path).
@Suite struct AuthzConversionTests {
    typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
    typealias HTTPFilterProto = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter
    typealias RBACProto = Envoy_Config_Rbac_V3_RBAC
    typealias Permission = Envoy_Config_Rbac_V3_Permission
    typealias Principal = Envoy_Config_Rbac_V3_Principal

    /// An RSA key (the public half of a key nobody uses).
    static let jwks = #"{"keys":[{"kty":"RSA","alg":"RS256","kid":"k1","e":"AQAB","n":"v_xpy-d8I4ziQu2nU4kjLqeWGB85PJdImZU2U19Vgm9_nTccgRYRDvipYGqdxJDZUANqsXM6YEEBvmVbIGB9rBPBXsLDKmFtLvwJAWNqHqULlilc2bcKoRhUQm3Y6SCdP83hbapb7zZuNf_oz4IBOzWSxKBLz9jrCfdDfnZR5j71B_GjTgJtcQfx35VpWXhJldygvcjjWwGWWgPcO_hePlftOMBRaAU-O4M_Ba5DHIS8PZ3RMnH_jQ4Rmm12CnHPciqxeGcDJoaynFO1ghaPIIMBXZu62KT8bhyr4TcZNs0kDo2oo7rHCjeQo-k7I-EUAO55t0yyDftcQw8N-UxzvQ"}]}"#

    static func typed(_ name: String, _ m: some SwiftProtobuf.Message) -> HTTPFilterProto {
        var f = HTTPFilterProto()
        f.name = name
        f.typedConfig = try! Google_Protobuf_Any(message: m)
        return f
    }

    static func permission(_ edit: (inout Permission) -> Void) -> Permission { var p = Permission(); edit(&p); return p }
    static func principal(_ edit: (inout Principal) -> Void) -> Principal { var p = Principal(); edit(&p); return p }

    static func cidr(_ a: String, _ len: UInt32) -> Envoy_Config_Core_V3_CidrRange {
        var c = Envoy_Config_Core_V3_CidrRange()
        c.addressPrefix = a
        c.prefixLen = Google_Protobuf_UInt32Value(len)
        return c
    }

    static func rules(_ action: RBACProto.Action, _ policies: [String: (Permission, Principal)]) -> RBACProto {
        var r = RBACProto()
        r.action = action
        for (name, (perm, princ)) in policies {
            var p = Envoy_Config_Rbac_V3_Policy()
            p.permissions = [perm]
            p.principals = [princ]
            r.policies[name] = p
        }
        return r
    }

    static let adminPath = permission { var m = Envoy_Type_Matcher_V3_PathMatcher(); m.path.prefix = "/admin"; $0.urlPath = m }
    static let anyPermission = permission { $0.any = true }
    static let anyPrincipal = principal { $0.any = true }
    static let front = principal { var a = Principal.Authenticated(); a.principalName.exact = "spiffe://cluster.local/ns/shop/sa/front"; $0.authenticated = a }

    static func httpRBAC(_ rules: RBACProto?, shadow: RBACProto? = nil, shadowPrefix: String = "") -> HTTPFilterProto {
        var f = Envoy_Extensions_Filters_Http_Rbac_V3_RBAC()
        if let rules { f.rules = rules }
        if let shadow {
            f.shadowRules = shadow
            f.shadowRulesStatPrefix = shadowPrefix
        }
        return typed("envoy.filters.http.rbac", f)
    }

    static func jwt(_ edit: (inout Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider) -> Void = { _ in }) -> HTTPFilterProto {
        var p = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtProvider()
        p.issuer = "https://issuer.test"
        p.audiences = ["weft"]
        var source = Envoy_Config_Core_V3_DataSource()
        source.inlineString = jwks
        p.localJwks = source
        p.payloadInMetadata = "payload"
        edit(&p)
        var c = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication()
        c.providers["https://issuer.test"] = p
        var any = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtRequirementOrList()
        var byName = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtRequirement(); byName.providerName = "https://issuer.test"
        var missing = Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtRequirement(); missing.allowMissing = .init()
        any.requirements = [byName, missing]
        var rule = Envoy_Extensions_Filters_Http_JwtAuthn_V3_RequirementRule()
        rule.match.prefix = "/"
        rule.requires.requiresAny = any
        c.rules = [rule]
        return typed("envoy.filters.http.jwt_authn", c)
    }

    static let tail: [HTTPFilterProto] = [typed("envoy.filters.http.fault", Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault()),
                                          typed("envoy.filters.http.cors", Envoy_Extensions_Filters_Http_Cors_V3_Cors()),
                                          typed("envoy.filters.http.router", Envoy_Extensions_Filters_Http_Router_V3_Router())]

    /// An inbound HTTP listener with an inline route configuration and `filters` before fault, CORS and the router.
    static func listener(_ filters: [HTTPFilterProto], rds: Bool = false) -> Envoy_Config_Listener_V3_Listener {
        var hcm = HCM()
        hcm.statPrefix = "inbound_9080"
        if rds {
            hcm.rds.routeConfigName = "r"
        } else {
            var rc = Envoy_Config_Route_V3_RouteConfiguration()
            rc.name = "inbound|9080"
            var vh = Envoy_Config_Route_V3_VirtualHost()
            vh.name = "inbound"
            vh.domains = ["*"]
            var r = Envoy_Config_Route_V3_Route()
            r.match.prefix = "/"
            r.route.cluster = "inbound|9080||"
            vh.routes = [r]
            rc.virtualHosts = [vh]
            hcm.routeConfig = rc
        }
        hcm.httpFilters = filters + tail
        var f = Envoy_Config_Listener_V3_Filter()
        f.name = "envoy.filters.network.http_connection_manager"
        f.typedConfig = try! Google_Protobuf_Any(message: hcm)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [f]
        var l = Envoy_Config_Listener_V3_Listener()
        l.name = "inbound|9080"
        l.address.socketAddress.address = "0.0.0.0"
        l.address.socketAddress.portValue = 15006
        l.filterChains = [chain]
        return l
    }

    static func tcpListener(_ rbac: [Envoy_Extensions_Filters_Network_Rbac_V3_RBAC]) -> Envoy_Config_Listener_V3_Listener {
        var tcp = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy()
        tcp.statPrefix = "inbound_tcp_9000"
        tcp.cluster = "inbound|9000||"
        var chain = Envoy_Config_Listener_V3_FilterChain()
        for r in rbac {
            var f = Envoy_Config_Listener_V3_Filter()
            f.name = "envoy.filters.network.rbac"
            f.typedConfig = try! Google_Protobuf_Any(message: r)
            chain.filters.append(f)
        }
        var f = Envoy_Config_Listener_V3_Filter()
        f.name = "envoy.filters.network.tcp_proxy"
        f.typedConfig = try! Google_Protobuf_Any(message: tcp)
        chain.filters.append(f)
        var l = Envoy_Config_Listener_V3_Listener()
        l.name = "inbound|9000"
        l.address.socketAddress.address = "0.0.0.0"
        l.address.socketAddress.portValue = 15007
        l.filterChains = [chain]
        return l
    }

    static let istioLike: [HTTPFilterProto] = [
        jwt(),
        httpRBAC(nil, shadow: rules(.log, ["ns[shop]-policy[audit]-rule[0]": (adminPath, anyPrincipal)]), shadowPrefix: "istio_dry_run_audit_"),
        httpRBAC(rules(.deny, ["ns[shop]-policy[no-admin]-rule[0]": (adminPath, anyPrincipal)])),
        httpRBAC(rules(.allow, ["ns[shop]-policy[front]-rule[0]": (anyPermission, front)]),
                 shadow: rules(.allow, ["ns[shop]-policy[dry]-rule[0]": (anyPermission, anyPrincipal)]), shadowPrefix: "istio_dry_run_allow_"),
    ]

    @Test func weftControlsInboundFiltersConvertWithEnvoysStatNames() throws {
        let l = try XDSConversion.listener(Self.listener(Self.istioLike))
        #expect(l.filterOrder == ["envoy.filters.http.jwt_authn", "envoy.filters.http.rbac", "envoy.filters.http.fault"])
        let chain = try #require(l.inlineRoutes?.virtualHosts[0].routes[0].filters)
        #expect(chain.map { type(of: $0).name } == ["envoy.filters.http.jwt_authn", "envoy.filters.http.rbac"])
        #expect(l.inlineRoutes?.filters.count == 2, "requests no route matches meet them too")
        let rbac = try #require(chain[1] as? RBACFilter).settings.instances
        #expect(rbac.count == 3)
        #expect(rbac[0].rules == nil && rbac[0].shadowRules?.action == .log)
        #expect(rbac[0].shadowRules?.deniedStat.text == "http.inbound_9080.rbac.istio_dry_run_audit_.shadow_denied")
        #expect(rbac[1].rules?.action == .deny)
        #expect(rbac[1].rules?.allowedStat.text == "http.inbound_9080.rbac.allowed")
        #expect(rbac[1].rules?.policies.first?.deniedStat.text == "http.inbound_9080.rbac.policy.ns[shop]-policy[no-admin]-rule[0].denied")
        #expect(rbac[2].shadowRules?.deniedStat.text == "http.inbound_9080.rbac.istio_dry_run_allow_.shadow_denied")
        #expect(rbac[2].shadowRules?.policies.first?.deniedStat.text
                == "http.inbound_9080.rbac.istio_dry_run_allow_.policy.ns[shop]-policy[dry]-rule[0].shadow_denied")
        #expect(rbac[2].rules?.policies.first?.principals == [.authenticated(.exact("spiffe://cluster.local/ns/shop/sa/front"))])
        let jwt = try #require(chain[0] as? JWTAuthnFilter).settings
        #expect(jwt.providers.map(\.name) == ["https://issuer.test"])
        #expect(jwt.providers[0].locations == JWTLocation.defaults, "no location configured: Envoy's defaults")
        #expect(jwt.providers[0].payloadInMetadata == "payload" && jwt.providers[0].clockSkew == 60 && !jwt.providers[0].forward)
        #expect(jwt.allowedStat.text == "http.inbound_9080.jwt_authn.allowed")
        #expect(!l.config.readsServerName)
    }

    @Test func matchersConvertWithEnvoysMeaning() throws {
        let sni = Self.permission { var m = Envoy_Type_Matcher_V3_StringMatcher(); m.suffix = ".shop"; $0.requestedServerName = m }
        let host = Self.permission { var h = Envoy_Config_Route_V3_HeaderMatcher(); h.name = ":Authority"; h.stringMatch.exact = "Reviews"
            h.stringMatch.ignoreCase = true; $0.header = h }
        let claim = Self.principal { var m = Envoy_Type_Matcher_V3_MetadataMatcher(); m.filter = "envoy.filters.http.jwt_authn"
            m.path = ["payload", "groups"].map { k in var s = Envoy_Type_Matcher_V3_MetadataMatcher.PathSegment(); s.key = k; return s }
            var inner = Envoy_Type_Matcher_V3_ValueMatcher(); inner.stringMatch.exact = "admin"
            m.value.listMatch.oneOf = inner; $0.metadata = m }
        let v6 = Self.principal { $0.directRemoteIp = Self.cidr("2001:db8::", 32) }
        var and = Permission.Set(); and.rules = [sni, host]
        let l = try XDSConversion.listener(Self.listener([Self.httpRBAC(Self.rules(.allow, [
            "a": (Self.permission { $0.andRules = and }, Self.principal { var o = Principal.Set(); o.ids = [claim, v6]; $0.orIds = o }),
        ]))]))
        #expect(l.config.readsServerName, "a requested_server_name rule makes the listener read SNI")
        let rbac = try #require(l.inlineRoutes?.filters.first as? RBACFilter).settings.instances[0].rules!.policies[0]
        #expect(rbac.permissions == [.and([.requestedServerName(.suffix(".shop")),
                                           .header(RBACHeaderMatcher(name: ":authority", kind: .text(.exact("reviews", ignoreCase: true))))])])
        #expect(rbac.principals == [.or([.metadata(RBACMetadataMatcher(filter: "envoy.filters.http.jwt_authn", path: ["payload", "groups"],
                                                                       value: .listOneOf(.string(.exact("admin"))))),
                                         .directRemoteIP(CIDRText("2001:db8::/32")!)])])
    }

    static func refusal(_ filters: [HTTPFilterProto], rds: Bool = false) -> XDSConversionError? {
        do {
            _ = try XDSConversion.listener(Self.listener(filters, rds: rds))
            return nil
        } catch {
            return error
        }
    }

    static let at = "filter_chains[0].filters[0].typed_config.http_filters"

    @Test func remoteJWKSIsRefused() {
        let e = Self.refusal([Self.jwt { var r = Envoy_Extensions_Filters_Http_JwtAuthn_V3_RemoteJwks(); r.httpUri.uri = "https://x/jwks"; $0.remoteJwks = r }])
        #expect(e == XDSConversionError(resource: "Listener inbound|9080", path: "\(Self.at)[0].typed_config.providers[https://issuer.test].remote_jwks",
                                        message: "remote_jwks is not supported: weft control inlines keys"))
    }

    @Test func aBadJWKSIsRefused() {
        let e = Self.refusal([Self.jwt { var s = Envoy_Config_Core_V3_DataSource(); s.inlineString = #"{"keys":[]}"#; $0.localJwks = s }])
        #expect(e?.path == "\(Self.at)[0].typed_config.providers[https://issuer.test].local_jwks")
        #expect(e?.message.hasPrefix("invalid JWKS: ") == true)
    }

    @Test func aRequirementNamingAnUnknownProviderIsRefused() throws {
        var f = Self.jwt()
        var c = try Envoy_Extensions_Filters_Http_JwtAuthn_V3_JwtAuthentication(unpackingAny: f.typedConfig)
        c.rules[0].requires.providerName = "nobody"
        f.typedConfig = try Google_Protobuf_Any(message: c)
        #expect(Self.refusal([f])?.path == "\(Self.at)[0].typed_config.rules[0].requires.provider_name")
    }

    @Test func aBadCIDRIsRefusedWithItsPath() {
        let e = Self.refusal([Self.httpRBAC(Self.rules(.allow, ["p": (Self.anyPermission, Self.principal { $0.directRemoteIp = Self.cidr("10.0.0.300", 8) })]))])
        #expect(e == XDSConversionError(resource: "Listener inbound|9080",
                                        path: "\(Self.at)[0].typed_config.rules.policies[p].principals[0].direct_remote_ip.address_prefix",
                                        message: "'10.0.0.300' is not an IP address"))
        let long = Self.refusal([Self.httpRBAC(Self.rules(.allow, ["p": (Self.permission { $0.destinationIp = Self.cidr("10.0.0.0", 33) }, Self.anyPrincipal)]))])
        #expect(long?.path == "\(Self.at)[0].typed_config.rules.policies[p].permissions[0].destination_ip.prefix_len")
    }

    @Test func anUnknownPermissionKindIsRefused() throws {
        // Field 12 (`matcher`), which the trimmed protos leave out.
        let unknown = try Permission(serializedBytes: [0x62, 0x00] as [UInt8])
        let e = Self.refusal([Self.httpRBAC(Self.rules(.allow, ["p": (unknown, Self.anyPrincipal)]))])
        #expect(e?.path == "\(Self.at)[0].typed_config.rules.policies[p].permissions[0]")
        #expect(e?.message.contains("not support") == true)
        let empty = Self.refusal([Self.httpRBAC(Self.rules(.allow, ["p": (Permission(), Self.anyPrincipal)]))])
        #expect(empty?.message.hasPrefix("a permission needs a rule") == true)
    }

    @Test func rbacFiltersMustBeAdjacentAndNeedAnInlineRouteConfig() {
        let deny = Self.httpRBAC(Self.rules(.deny, [:]))
        let split = Self.refusal([deny, Self.jwt(), deny])
        #expect(split?.path == "\(Self.at)[2].name")
        #expect(Self.refusal([deny], rds: true)?.message.contains("needs an inline route_config") == true)
    }

    @Test func networkRBACComesBeforeTheTCPProxy() throws {
        var r = Envoy_Extensions_Filters_Network_Rbac_V3_RBAC()
        r.statPrefix = "inbound_tcp_9000."
        r.rules = Self.rules(.allow, ["from-front": (Self.anyPermission, Self.front)])
        r.shadowRules = Self.rules(.deny, [:])
        r.shadowRulesStatPrefix = "istio_dry_run_deny_"
        let l = try XDSConversion.listener(Self.tcpListener([r]))
        #expect(l.config.networkRBAC.count == 1)
        #expect(l.config.networkRBAC[0].rules?.deniedStat.text == "inbound_tcp_9000.rbac.denied")
        #expect(l.config.networkRBAC[0].rules?.policies[0].deniedStat.text == "inbound_tcp_9000.rbac.policy.from-front.denied")
        #expect(l.config.networkRBAC[0].shadowRules?.deniedStat.text == "inbound_tcp_9000.rbac.istio_dry_run_deny_.shadow_denied")
        r.enforcementType = .continuous
        #expect(throws: XDSConversionError(resource: "Listener inbound|9000", path: "filter_chains[0].filters[0].typed_config.enforcement_type",
                                           message: "only ONE_TIME_ON_FIRST_BYTE is supported")) {
            try XDSConversion.listener(Self.tcpListener([r]))
        }
    }
}
