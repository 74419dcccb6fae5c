import Testing
import WeftCore
@testable import WeftJWT

/// Signatures: every algorithm against keys made in the test, and the ways a token fails to verify.
@Suite struct JWTVerifyTests {
    static let set = try! JWKS(json: jwks(
        TestKey.rsa(rsaKey).jwk(kid: "rsa-1"),
        TestKey.p256(p256Key).jwk(kid: "ec-256"),
        TestKey.p384(p384Key).jwk(kid: "ec-384")
    ))

    @Test(arguments: JWTAlgorithm.allCases)
    func everyAlgorithmVerifies(alg: JWTAlgorithm) throws {
        let key: TestKey = alg.usesRSA ? .rsa(rsaKey) : alg == .es256 ? .p256(p256Key) : .p384(p384Key)
        // With the key's kid, and without a kid (every key whose type fits is tried).
        let kid = alg.usesRSA ? "rsa-1" : alg == .es256 ? "ec-256" : "ec-384"
        for token in [mint(key, alg: alg, kid: kid), mint(key, alg: alg)] {
            let jwt = try JWT(compact: token)
            #expect(jwt.algorithm == alg)
            #expect(JWTVerifier.verify(jwt, keys: Self.set) == nil)
            #expect(jwt.verify(keys: Self.set) == nil)
        }
    }

    @Test func anotherKeysSignatureFails() throws {
        let rsa = try JWT(compact: mint(.rsa(otherRSAKey), alg: .rs256, kid: "rsa-1"))
        #expect(JWTVerifier.verify(rsa, keys: Self.set) == .verificationFailed)
        let ec = try JWT(compact: mint(.p256(otherP256Key), alg: .es256))
        #expect(JWTVerifier.verify(ec, keys: Self.set) == .verificationFailed)
        #expect(JWTError.verificationFailed.message == "Jwt verification fails")
    }

    @Test func kidThatNoKeyHasFindsNoKey() throws {
        let jwt = try JWT(compact: mint(.rsa(rsaKey), alg: .rs256, kid: "rotated-away"))
        #expect(JWTVerifier.verify(jwt, keys: Self.set) == .noMatchingKey)
        #expect(JWTError.noMatchingKey.message == "Jwks doesn't have key to match kid or alg from Jwt")
        // The kid of a key of the wrong type: no key fits either.
        let wrongType = try JWT(compact: mint(.rsa(rsaKey), alg: .rs256, kid: "ec-256"))
        #expect(JWTVerifier.verify(wrongType, keys: Self.set) == .noMatchingKey)
    }

    @Test func keyWithoutKidIsTriedForAnyKid() throws {
        let set = try JWKS(json: jwks(TestKey.p256(p256Key).jwk()))
        #expect(JWTVerifier.verify(try JWT(compact: mint(.p256(p256Key), alg: .es256, kid: "any")), keys: set) == nil)
    }

    @Test func algorithmMustFitTheKey() throws {
        let rsaOnly = try JWKS(json: jwks(TestKey.rsa(rsaKey).jwk(alg: "RS256")))
        #expect(JWTVerifier.verify(try JWT(compact: mint(.p256(p256Key), alg: .es256)), keys: rsaOnly) == .noMatchingKey)
        // A key restricted to RS256 is not used for PS256.
        #expect(JWTVerifier.verify(try JWT(compact: mint(.rsa(rsaKey), alg: .ps256)), keys: rsaOnly) == .noMatchingKey)
        #expect(JWTVerifier.verify(try JWT(compact: mint(.rsa(rsaKey), alg: .rs256)), keys: rsaOnly) == nil)
        // A P-384 key is not used for ES256.
        let p384Only = try JWKS(json: jwks(TestKey.p384(p384Key).jwk()))
        #expect(JWTVerifier.verify(try JWT(compact: mint(.p256(p256Key), alg: .es256)), keys: p384Only) == .noMatchingKey)
    }

    @Test func pkcs1SignatureIsNotAPSSOne() throws {
        // The same key, the right hash, the other padding.
        let token = mint(.rsa(rsaKey), alg: .rs256)
        let parts = token.split(separator: ".")
        let relabelled = b64(#"{"alg":"PS256"}"#) + "." + parts[1] + "." + parts[2]
        #expect(JWTVerifier.verify(try JWT(compact: relabelled), keys: Self.set) == .verificationFailed)
    }

    @Test(arguments: [JWTAlgorithm.rs256, .ps512, .es256, .es384])
    func tamperedPayloadFails(alg: JWTAlgorithm) throws {
        let key: TestKey = alg.usesRSA ? .rsa(rsaKey) : alg == .es256 ? .p256(p256Key) : .p384(p384Key)
        let parts = mint(key, alg: alg, payload: #"{"sub":"alice"}"#).split(separator: ".")
        let forged = parts[0] + "." + b64(#"{"sub":"admin"}"#) + "." + parts[2]
        let jwt = try JWT(compact: forged)
        #expect(jwt.subject == "admin")
        #expect(JWTVerifier.verify(jwt, keys: Self.set) == .verificationFailed)
    }

    @Test func truncatedOrEmptySignatureFails() throws {
        for alg in [JWTAlgorithm.es256, .rs256] {
            let key: TestKey = alg == .es256 ? .p256(p256Key) : .rsa(rsaKey)
            let parts = mint(key, alg: alg).split(separator: ".", omittingEmptySubsequences: false)
            let short = parts[0] + "." + parts[1] + "." + parts[2].dropLast(4)
            #expect(JWTVerifier.verify(try JWT(compact: short), keys: Self.set) == .verificationFailed)
            let empty = parts[0] + "." + parts[1] + "."
            #expect(JWTVerifier.verify(try JWT(compact: empty), keys: Self.set) == .verificationFailed)
        }
    }
}
