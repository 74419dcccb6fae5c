import Testing
import WeftCore
@testable import WeftJWT

/// Decoding tokens: claims, malformed input, refused algorithms, time, issuer and audience checks.
@Suite struct JWTDecodeTests {
    static let payload = #"""
    {"iss":"https://idp.example","sub":"alice","aud":["shop","https://api.example/"],"exp":1800000100,
     "nbf":1799999900,"azp":"web","org":{"team":{"name":"payments"}},"groups":["dev","ops"],"admin":true}
    """#

    @Test func claimsAreRead() throws {
        let token = mint(.p256(p256Key), alg: .es256, kid: "k1", payload: Self.payload)
        let jwt = try JWT(compact: token)
        #expect(jwt.algorithm == .es256)
        #expect(jwt.keyID == "k1")
        #expect(jwt.header["typ"] == .string("JWT"))
        #expect(jwt.issuer == "https://idp.example")
        #expect(jwt.subject == "alice")
        #expect(jwt.audiences == ["shop", "https://api.example/"])
        #expect(jwt.expiresAt == 1_800_000_100)
        #expect(jwt.notBefore == 1_799_999_900)
        #expect(jwt.presenter == "web")
        #expect(jwt.claims["admin"] == .bool(true))
        #expect(jwt.payloadBase64URL == token.split(separator: ".")[1])
        #expect(jwt.signingInput == Array(token[..<token.lastIndex(of: ".")!].utf8))
        #expect(jwt.signature.count == 64)
    }

    @Test func nestedClaimsByPath() throws {
        let jwt = try JWT(compact: mint(.p256(p256Key), alg: .es256, payload: Self.payload))
        #expect(jwt.claims.value(at: ["org", "team", "name"]) == .string("payments"))
        #expect(jwt.claims.value(at: ["org", "team"])?["name"]?.stringValue == "payments")
        #expect(jwt.claims.value(at: ["org", "missing"]) == nil)
        #expect(jwt.claims.value(at: ["sub", "deeper"]) == nil)
        #expect(jwt.claims.value(at: [String]()) == jwt.claims)
        #expect(jwt.claims.value(at: ["groups"])?.claimStrings == ["dev", "ops"])
        #expect(jwt.claims.value(at: ["sub"])?.claimStrings == ["alice"])
        #expect(jwt.claims.value(at: ["admin"])?.claimStrings == [])
    }

    @Test func audienceAsOneString() throws {
        let jwt = try JWT(compact: mint(.p256(p256Key), alg: .es256, payload: #"{"aud":"shop"}"#))
        #expect(jwt.audiences == ["shop"])
        #expect(JWTVerifier.checkAudiences(jwt, allowed: ["shop", "other"]) == nil)
        #expect(JWTVerifier.checkAudiences(jwt, allowed: ["other"]) == .audienceNotAllowed)
        #expect(JWTVerifier.checkAudiences(jwt, allowed: []) == nil)
        let none = try JWT(compact: mint(.p256(p256Key), alg: .es256, payload: "{}"))
        #expect(none.audiences.isEmpty)
        #expect(JWTVerifier.checkAudiences(none, allowed: ["shop"]) == .audienceNotAllowed)
        #expect(JWTError.audienceNotAllowed.message == "Audiences in Jwt are not allowed")
    }

    @Test func audienceArrayAndSchemeInsensitiveMatch() throws {
        let jwt = try JWT(compact: mint(.p256(p256Key), alg: .es256, payload: Self.payload))
        #expect(JWTVerifier.checkAudiences(jwt, allowed: ["api.example"]) == nil)
        #expect(JWTVerifier.checkAudiences(jwt, allowed: ["http://shop/"]) == nil)
        #expect(JWTVerifier.checkAudiences(jwt, allowed: ["web"]) == .audienceNotAllowed)
    }

    @Test func issuerCheck() throws {
        let jwt = try JWT(compact: mint(.p256(p256Key), alg: .es256, payload: Self.payload))
        #expect(JWTVerifier.checkIssuer(jwt, issuer: "https://idp.example") == nil)
        #expect(JWTVerifier.checkIssuer(jwt, issuer: "https://evil.example") == .unknownIssuer)
        #expect(JWTError.unknownIssuer.message == "Jwt issuer is not configured")
    }

    @Test func timeWithinAndBeyondSkew() throws {
        let jwt = try JWT(compact: mint(.p256(p256Key), alg: .es256, payload: Self.payload))
        // exp 1_800_000_100, nbf 1_799_999_900.
        #expect(jwt.checkTime(now: 1_800_000_000, clockSkew: 0) == nil)
        #expect(jwt.checkTime(now: 1_800_000_150) == nil)  // 50 s after exp, within the default 60 s
        #expect(jwt.checkTime(now: 1_800_000_161) == .expired)
        #expect(jwt.checkTime(now: 1_800_000_101, clockSkew: 0) == .expired)
        #expect(jwt.checkTime(now: 1_799_999_850) == nil)  // 50 s before nbf
        #expect(jwt.checkTime(now: 1_799_999_839) == .notYetValid)
        #expect(JWTVerifier.checkTime(jwt, now: 1_799_999_899, clockSkew: 0) == .notYetValid)
        #expect(JWTError.expired.message == "Jwt is expired")
        #expect(JWTError.notYetValid.message == "Jwt not yet valid")
        // No exp and no nbf: always in time.
        let timeless = try JWT(compact: mint(.p256(p256Key), alg: .es256, payload: "{}"))
        #expect(timeless.checkTime(now: 0) == nil && timeless.checkTime(now: 4e9) == nil)
    }

    @Test func malformedTokens() throws {
        let good = mint(.p256(p256Key), alg: .es256).split(separator: ".").map(String.init)
        let header = good[0], payload = good[1], sig = good[2]
        let bad = [
            header + "." + payload,  // two parts
            header + "." + payload + "." + sig + "." + sig,  // four
            "a.b.c",  // "a" is not base64url of anything
            header + ".e30+." + sig,  // "+" is standard base64, not base64url
            b64("not json") + "." + payload + "." + sig,  // header not JSON
            b64("[1]") + "." + payload + "." + sig,  // header not an object
            header + "." + b64("[]") + "." + sig,  // payload not an object
            header + "." + b64(#"{"sub":"a""#) + "." + sig,  // truncated JSON
            header + "." + payload + ".a*b",  // bad signature base64
            header + "." + b64(#"{"iss":7}"#) + "." + sig,
            header + "." + b64(#"{"aud":["a",1]}"#) + "." + sig,
            header + "." + b64(#"{"exp":"soon"}"#) + "." + sig,
            b64(#"{"alg":"ES256","kid":1}"#) + "." + payload + "." + sig,
        ]
        for token in bad {
            #expect(throws: JWTError.malformed, "\(token)") { try JWT(compact: token) }
        }
        #expect(throws: JWTError.missing) { try JWT(compact: "") }
        #expect(JWTError.malformed.message == "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections")
        #expect(JWTError.missing.message == "Jwt is missing")
    }

    @Test func noneAndHMACAreRefused() throws {
        let payload = b64(#"{"sub":"admin"}"#)
        for alg in ["none", "HS256", "HS512", "EdDSA", "ES512", "rs256"] {
            #expect(throws: JWTError.algorithmUnsupported) { try JWT(compact: b64(#"{"alg":"\#(alg)"}"#) + "." + payload + ".") }
        }
        #expect(throws: JWTError.algorithmMissing) { try JWT(compact: b64(#"{"typ":"JWT"}"#) + "." + payload + ".") }
        #expect(throws: JWTError.algorithmMissing) { try JWT(compact: b64(#"{"alg":256}"#) + "." + payload + ".") }
        #expect(JWTError.algorithmUnsupported.message == "Jwt header [alg] is not supported")
    }

    @Test func decodesFromASubstringOfAHeader() throws {
        let header = "Bearer " + mint(.p256(p256Key), alg: .es256)
        let jwt = try JWT(compact: header.dropFirst(7))
        #expect(jwt.subject == "alice")
        #expect(JWTVerifier.verify(jwt, keys: try JWKS(json: jwks(TestKey.p256(p256Key).jwk()))) == nil)
    }
}
