/// Istio RequestAuthentication (`security.istio.io/v1`, `v1beta1`): which JSON Web Tokens a workload's sidecar
/// accepts. A request with a token that fails every rule is refused (401); a request without a token passes, and
/// an AuthorizationPolicy with `requestPrincipals` is how a token is required.
public struct RequestAuthentication: Hashable, Sendable {
    public static let apiVersions: Set<String> = ["security.istio.io/v1", "security.istio.io/v1beta1"]

    public var selector: [String: String]?
    public var targetRefs: [PolicyTargetRef] = []
    public var jwtRules: [JWTRule] = []

    public init(selector: [String: String]? = nil, jwtRules: [JWTRule] = []) {
        self.selector = selector
        self.jwtRules = jwtRules
    }

    /// One issuer's rule (Istio's `JWTRule`).
    public struct JWTRule: Hashable, Sendable {
        public var issuer: String
        public var audiences: [String] = []
        /// Where the control plane fetches the keys (http or https); the proxies get them inline.
        public var jwksUri: String?
        /// The keys inline, as JWKS JSON.
        public var jwks: String?
        /// Headers the token is read from, with the prefix before it (`Authorization: Bearer ` by default).
        public var fromHeaders: [FromHeader] = []
        public var fromParams: [String] = []
        public var fromCookies: [String] = []
        /// Send the verified payload, base64url, to the app in this header.
        public var outputPayloadToHeader: String?
        /// Keep the token in the request to the app (removed by default).
        public var forwardOriginalToken = false
        public var outputClaimToHeaders: [ClaimToHeader] = []

        public init(issuer: String) { self.issuer = issuer }
    }

    public struct FromHeader: Hashable, Sendable {
        public var name: String
        public var prefix: String

        public init(name: String, prefix: String = "") {
            self.name = name
            self.prefix = prefix
        }
    }

    public struct ClaimToHeader: Hashable, Sendable {
        public var header: String
        public var claim: String

        public init(header: String, claim: String) {
            self.header = header
            self.claim = claim
        }
    }

    static func decode(_ r: ObjectReader) -> RequestAuthentication {
        defer { r.finish() }
        var ra = RequestAuthentication()
        ra.selector = PolicyTargetRef.selector(r)
        ra.targetRefs = PolicyTargetRef.decodeAll(r)
        ra.jwtRules = r.objects("jwtRules") { j in
            defer { j.finish() }
            var rule = JWTRule(issuer: j.string("issuer", required: true) ?? "")
            rule.audiences = j.strings("audiences")
            rule.jwksUri = j.string("jwksUri")
            rule.jwks = j.string("jwks")
            rule.fromHeaders = j.objects("fromHeaders") { h in
                defer { h.finish() }
                return FromHeader(name: h.string("name", required: true) ?? "", prefix: h.string("prefix") ?? "")
            }
            rule.fromParams = j.strings("fromParams")
            rule.fromCookies = j.strings("fromCookies")
            rule.outputPayloadToHeader = j.string("outputPayloadToHeader")
            rule.forwardOriginalToken = j.bool("forwardOriginalToken") ?? false
            rule.outputClaimToHeaders = j.objects("outputClaimToHeaders") { h in
                defer { h.finish() }
                return ClaimToHeader(header: h.string("header", required: true) ?? "", claim: h.string("claim", required: true) ?? "")
            }
            if j.raw("timeout") != nil { j.ctx.notApplied(j.sub("timeout")) }
            return rule
        }
        return ra
    }
}
