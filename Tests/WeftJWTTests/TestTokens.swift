import Crypto
import CryptoExtras
import Foundation
import WeftCore
@testable import WeftJWT

// Keys made once per test run and helpers that build JWKS documents and sign tokens with them, as an identity
// provider would.

let rsaKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
let otherRSAKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
let p256Key = P256.Signing.PrivateKey()
let p384Key = P384.Signing.PrivateKey()
let otherP256Key = P256.Signing.PrivateKey()

/// A signing key of the test, with the JWK text of its public half.
enum TestKey {
    case rsa(_RSA.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)

    /// The public key as a JWK object, with `kid` and `alg` when given.
    func jwk(kid: String? = nil, alg: String? = nil) -> String {
        var fields: [String] = []
        switch self {
        case let .rsa(k):
            let p = try! k.publicKey.getKeyPrimitives()
            fields = [#""kty":"RSA""#, #""n":"\#(Base64URL.encode(p.modulus))""#, #""e":"\#(Base64URL.encode(p.publicExponent))""#]
        case let .p256(k):
            let raw = Array(k.publicKey.rawRepresentation)
            fields = [#""kty":"EC""#, #""crv":"P-256""#, #""x":"\#(Base64URL.encode(raw[..<32]))""#, #""y":"\#(Base64URL.encode(raw[32...]))""#]
        case let .p384(k):
            let raw = Array(k.publicKey.rawRepresentation)
            fields = [#""kty":"EC""#, #""crv":"P-384""#, #""x":"\#(Base64URL.encode(raw[..<48]))""#, #""y":"\#(Base64URL.encode(raw[48...]))""#]
        }
        if let kid { fields.append(#""kid":"\#(kid)""#) }
        if let alg { fields.append(#""alg":"\#(alg)""#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The signature of `input` with `alg`, as JWS carries it.
    func sign(_ input: [UInt8], alg: JWTAlgorithm) -> [UInt8] {
        switch (self, alg) {
        case let (.rsa(k), .rs256): return Array(try! k.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case let (.rsa(k), .rs384): return Array(try! k.signature(for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case let (.rsa(k), .rs512): return Array(try! k.signature(for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case let (.rsa(k), .ps256): return Array(try! k.signature(for: SHA256.hash(data: input), padding: .PSS).rawRepresentation)
        case let (.rsa(k), .ps384): return Array(try! k.signature(for: SHA384.hash(data: input), padding: .PSS).rawRepresentation)
        case let (.rsa(k), .ps512): return Array(try! k.signature(for: SHA512.hash(data: input), padding: .PSS).rawRepresentation)
        case let (.p256(k), _): return Array(try! k.signature(for: SHA256.hash(data: input)).rawRepresentation)
        case let (.p384(k), _): return Array(try! k.signature(for: SHA384.hash(data: input)).rawRepresentation)
        default: fatalError("key does not fit \(alg)")
        }
    }
}

/// A JWKS document holding `keys` (JWK object texts).
func jwks(_ keys: String...) -> String {
    #"{"keys":["# + keys.joined(separator: ",") + "]}"
}

/// A compact token with the given header fields and payload JSON, signed by `key`.
func mint(_ key: TestKey, alg: JWTAlgorithm, kid: String? = nil, payload: String = #"{"iss":"https://idp.example","sub":"alice"}"#) -> String {
    let header = kid.map { #"{"alg":"\#(alg.rawValue)","kid":"\#($0)","typ":"JWT"}"# } ?? #"{"alg":"\#(alg.rawValue)"}"#
    let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    return input + "." + Base64URL.encode(key.sign(Array(input.utf8), alg: alg))
}

/// base64url of a text, for hand-built token sections.
func b64(_ text: String) -> String { Base64URL.encode(Array(text.utf8)) }
