import Crypto
import Testing
import WeftCore
@testable import WeftJWT

/// Parsing key sets: the keys kept, the keys skipped, and the errors for sets that cannot be used.
@Suite struct JWKSTests {
    func error(_ json: String) -> String? {
        do {
            _ = try JWKS(json: json)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func keysOfEachTypeAreRead() throws {
        let set = try JWKS(json: jwks(
            TestKey.rsa(rsaKey).jwk(kid: "r", alg: "PS384"),
            TestKey.p256(p256Key).jwk(kid: "a"),
            TestKey.p384(p384Key).jwk(alg: "ES384")
        ))
        #expect(set.keys.map(\.keyType) == [.rsa, .ecP256, .ecP384])
        #expect(set.keys.map(\.keyID) == ["r", "a", nil])
        #expect(set.keys.map(\.algorithm) == [.ps384, nil, .es384])
        #expect(set.keys[0].fits(.ps384) && !set.keys[0].fits(.rs384) && !set.keys[0].fits(.es256))
        #expect(set.keys[1].fits(.es256) && !set.keys[1].fits(.es384))
    }

    @Test func otherKeyTypesAndCurvesAreSkipped() throws {
        let set = try JWKS(json: jwks(
            #"{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}"#,
            #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            #"{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}"#,
            #"{"kty":"EC","alg":"ES512","x":"AA","y":"AA"}"#,
            #"{"kty":"RSA","use":"enc","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"}"#,
            TestKey.p256(p256Key).jwk(kid: "kept")
        ))
        #expect(set.keys.map(\.keyID) == ["kept"])
    }

    @Test func singleJWKObject() throws {
        let set = try JWKS(json: TestKey.p384(p384Key).jwk(kid: "solo"))
        #expect(set.keys.map(\.keyID) == ["solo"])
        #expect(JWTVerifier.verify(try JWT(compact: mint(.p384(p384Key), alg: .es384, kid: "solo")), keys: set) == nil)
    }

    @Test func ecCurveFromAlgAndShortCoordinates() throws {
        // A key whose x starts with a zero byte (one in 256 does), sent without that byte and without "crv":
        // the curve comes from "alg", the coordinate is padded back.
        var key = P256.Signing.PrivateKey()
        while key.publicKey.rawRepresentation.first != 0 { key = P256.Signing.PrivateKey() }
        let raw = Array(key.publicKey.rawRepresentation)
        let shortX = Base64URL.encode(raw[..<32].drop { $0 == 0 })
        let set = try JWKS(json: jwks(#"{"kty":"EC","alg":"ES256","x":"\#(shortX)","y":"\#(Base64URL.encode(raw[32...]))"}"#))
        #expect(set.keys.map(\.keyType) == [.ecP256])
        #expect(JWTVerifier.verify(try JWT(compact: mint(.p256(key), alg: .es256)), keys: set) == nil)
    }

    @Test func errorsSayWhatIsWrong() {
        let rsa = TestKey.rsa(rsaKey).jwk()
        let ec = TestKey.p256(p256Key).jwk()
        #expect(error("keys: []") == "not JSON")
        #expect(error("[]") == "not JSON")
        #expect(error(#"{"kids":[]}"#) == #"no "keys" array"#)
        #expect(error(#"{"keys":{}}"#) == #""keys" is not an array"#)
        #expect(error(#"{"keys":[]}"#) == "no usable RSA or EC key")
        #expect(error(jwks(#"{"kty":"oct","k":"c2VjcmV0"}"#)) == "no usable RSA or EC key")
        #expect(error(jwks(#"{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}"#)) == "no usable RSA or EC key")
        #expect(error(jwks(ec, #"{"kty":"RSA","e":"AQAB"}"#)) == #"keys[1]: RSA key has no "n""#)
        #expect(error(jwks(#"{"kty":"RSA","n":"AQAB"}"#)) == #"keys[0]: RSA key has no "e""#)
        #expect(error(jwks(#"{"kty":"RSA","n":"a+b","e":"AQAB"}"#)) == #"keys[0]: RSA key's "n" is not base64url"#)
        #expect(error(jwks(#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#)) == "keys[0]: RSA key is 24 bits; keys under 2048 bits are not supported")
        #expect(error(jwks(#"{"kty":"RSA","alg":"ES256","n":"AQAB","e":"AQAB"}"#))?.hasPrefix(#"keys[0]: RSA key has "alg" "ES256""#) == true)
        #expect(error(jwks(#"{"kty":"EC","crv":"P-256","x":"AA"}"#)) == #"keys[0]: EC key has no "y""#)
        #expect(error(jwks(#"{"kty":"EC","x":"AA","y":"AA"}"#)) == #"keys[0]: EC key has no "crv""#)
        #expect(error(jwks(#"{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}"#)) == #"keys[0]: EC key's "x" and "y" are not a point on P-256"#)
        #expect(error(jwks(#"{"kty":"EC","crv":"P-384","alg":"ES256","x":"AQ","y":"AQ"}"#)) == #"keys[0]: EC key on P-384 has "alg" "ES256""#)
        #expect(error(jwks(#"{"n":"AQAB"}"#)) == #"keys[0]: no "kty""#)
        #expect(error(jwks(#""RSA""#)) == "keys[0]: not a JSON object")
        #expect(error(jwks(#"{"kty":"RSA","kid":5}"#)) == #"keys[0]: "kid" is not a string"#)
        #expect(error(jwks(rsa)) == nil)
    }
}
