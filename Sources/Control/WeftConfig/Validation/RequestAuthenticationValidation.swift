import WeftCore

extension ResourceValidator {
    /// Istio's rules for RequestAuthentication (ValidateRequestAuthentication), made stricter where Weft needs
    /// it: each rule names a unique issuer and its keys (inline `jwks` that parses, or an http(s) `jwksUri`),
    /// token locations and output headers are valid header names.
    static func validateRequestAuthentication(_ ra: RequestAuthentication, _ c: inout Checker) {
        policyScope(ra.selector, ra.targetRefs, &c)
        var issuers: Set<String> = []
        for (i, rule) in ra.jwtRules.enumerated() {
            let at = "spec.jwtRules[\(i)]"
            if rule.issuer.isEmpty { c.error("\(at).issuer", "missing required field") }
            else if !issuers.insert(rule.issuer).inserted { c.error("\(at).issuer", "issuer '\(rule.issuer)' is already in an earlier rule") }
            for (k, a) in rule.audiences.enumerated() where a.isEmpty { c.error("\(at).audiences[\(k)]", "must not be empty") }
            switch (rule.jwks, rule.jwksUri) {
            case (nil, nil):
                c.error(at, "issuer '\(rule.issuer)' has no keys: set jwks (the key set inline) or jwksUri")
            case let (jwks?, uri):
                if let problem = JWKSCheck.problem(jwks) { c.error("\(at).jwks", "not a usable JSON Web Key Set: \(problem)") }
                if uri != nil { c.warn("\(at).jwksUri", "ignored: jwks is set inline and wins, as in Istio") }
            case let (nil, uri?):
                if let problem = jwksURIProblem(uri) { c.error("\(at).jwksUri", problem) }
            }
            for (k, h) in rule.fromHeaders.enumerated() { headerName(h.name, "\(at).fromHeaders[\(k)].name", &c) }
            for (k, p) in rule.fromParams.enumerated() where p.isEmpty { c.error("\(at).fromParams[\(k)]", "must not be empty") }
            for (k, p) in rule.fromCookies.enumerated() where p.isEmpty { c.error("\(at).fromCookies[\(k)]", "must not be empty") }
            if let h = rule.outputPayloadToHeader { headerName(h, "\(at).outputPayloadToHeader", &c) }
            for (k, h) in rule.outputClaimToHeaders.enumerated() {
                headerName(h.header, "\(at).outputClaimToHeaders[\(k)].header", &c)
                if h.claim.isEmpty { c.error("\(at).outputClaimToHeaders[\(k)].claim", "must not be empty") }
            }
        }
    }

    static func jwksURIProblem(_ uri: String) -> String? {
        let lower = uri.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return "'\(uri)' is not an http:// or https:// URL" }
        let rest = uri.drop { $0 != "/" }.dropFirst(2)
        let host = rest.prefix { $0 != "/" && $0 != "?" }
        return host.isEmpty ? "'\(uri)' has no host" : nil
    }

    static func headerName(_ name: String, _ path: String, _ c: inout Checker) {
        let token = "!#$%&'*+-.^_`|~"
        if name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || token.contains($0)) }) {
            c.error(path, "'\(name)' is not a valid HTTP header name")
        }
    }
}
