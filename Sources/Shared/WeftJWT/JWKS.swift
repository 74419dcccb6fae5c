import Crypto
import CryptoExtras
import WeftCore

// A JSON Web Key Set (RFC 7517) parsed into ready public keys: the RSA modulus and EC point are turned into
// swift-crypto keys once, here, so verifying a request's token does no key parsing.

/// A JSON Web Key Set: the RSA and EC public keys a provider signs tokens with, parsed once and reused for every
/// request. Keys of other types (`oct`, `OKP`) and EC keys on other curves are skipped; a key of a supported type
/// that is malformed makes the whole set an error, as in Envoy.
public struct JWKS: Sendable {
    /// The usable keys, in document order.
    public let keys: [JWK]

    /// Parses a JWKS document (`{"keys": [...]}`), or a single JWK object.
    public init(json: String) throws(JWKSError) {
        guard let doc = JSONParser.parse(json), case .object = doc else { throw JWKSError("not JSON") }
        let entries: [JSONValue]
        if let list = doc["keys"] {
            guard let array = list.arrayValue else { throw JWKSError("\"keys\" is not an array") }
            entries = array
        } else if doc["kty"] != nil {
            entries = [doc]
        } else {
            throw JWKSError("no \"keys\" array")
        }
        var keys: [JWK] = []
        for (i, entry) in entries.enumerated() {
            if let key = try JWK(entry, at: doc["keys"] == nil ? "key" : "keys[\(i)]") { keys.append(key) }
        }
        guard !keys.isEmpty else { throw JWKSError("no usable RSA or EC key") }
        self.keys = keys
    }
}

/// A JWKS document that could not be used; `message` says what is wrong and where.
public struct JWKSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, e.g. `keys[1]: RSA key has no "n"`.
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// One public key of a `JWKS`.
public struct JWK: Sendable {
    /// The kind of key.
    public enum KeyType: String, Sendable, Hashable {
        case rsa = "RSA"
        case ecP256 = "EC P-256"
        case ecP384 = "EC P-384"
    }

    enum Material: Sendable {
        case rsa(_RSA.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
    }

    /// `kid`, if the key has one.
    public let keyID: String?
    /// `alg`, if the key names the one algorithm it is for.
    public let algorithm: JWTAlgorithm?
    /// RSA, or EC and its curve.
    public let keyType: KeyType
    let material: Material

    /// Whether a token signed with `alg` may be checked with this key (its type, curve and `alg` fit).
    public func fits(_ alg: JWTAlgorithm) -> Bool {
        if let algorithm, algorithm != alg { return false }
        switch (keyType, alg) {
        case (.rsa, _): return alg.usesRSA
        case (.ecP256, .es256), (.ecP384, .es384): return true
        default: return false
        }
    }

    /// The key `entry` describes; nil for a key type or curve Weft does not verify.
    init?(_ entry: JSONValue, at place: String) throws(JWKSError) {
        guard case .object = entry else { throw JWKSError("\(place): not a JSON object") }
        func text(_ name: String) throws(JWKSError) -> String? {
            guard let v = entry[name] else { return nil }
            guard let s = v.stringValue else { throw JWKSError("\(place): \"\(name)\" is not a string") }
            return s
        }
        func bytes(_ name: String, _ kind: String) throws(JWKSError) -> [UInt8] {
            guard let s = try text(name) else { throw JWKSError("\(place): \(kind) key has no \"\(name)\"") }
            guard let b = Base64URL.decode(s), !b.isEmpty else {
                throw JWKSError("\(place): \(kind) key's \"\(name)\" is not base64url")
            }
            return b
        }
        guard let kty = try text("kty") else { throw JWKSError("\(place): no \"kty\"") }
        if try text("use") == "enc" { return nil }  // an encryption key, not for signatures
        keyID = try text("kid")
        let algText = try text("alg")
        switch kty {
        case "RSA":
            if let a = algText {
                guard let alg = JWTAlgorithm(rawValue: a), alg.usesRSA else {
                    throw JWKSError("\(place): RSA key has \"alg\" \"\(a)\", not RS256/384/512 or PS256/384/512")
                }
                algorithm = alg
            } else {
                algorithm = nil
            }
            let n = try bytes("n", "RSA"), e = try bytes("e", "RSA")
            keyType = .rsa
            do {
                material = .rsa(try _RSA.Signing.PublicKey(n: n, e: e))
            } catch {
                let bits = (n.count - (n.firstIndex { $0 != 0 } ?? n.count)) * 8
                if bits < 2048 {
                    throw JWKSError("\(place): RSA key is \(bits) bits; keys under 2048 bits are not supported")
                }
                throw JWKSError("\(place): RSA key's \"n\" and \"e\" are not a valid public key")
            }
        case "EC":
            if let a = algText {
                if let alg = JWTAlgorithm(rawValue: a), !alg.usesRSA {
                    algorithm = alg
                } else if a.hasPrefix("ES") {
                    return nil  // ES512 (P-521): a key Weft cannot use, skipped like its curve
                } else {
                    throw JWKSError("\(place): EC key has \"alg\" \"\(a)\", not an ES algorithm")
                }
            } else {
                algorithm = nil
            }
            let crv = try text("crv") ?? algorithm.map { $0 == .es256 ? "P-256" : "P-384" }
            switch crv {
            case "P-256": keyType = .ecP256
            case "P-384": keyType = .ecP384
            case nil: throw JWKSError("\(place): EC key has no \"crv\"")
            default: return nil  // P-521, secp256k1, ...
            }
            if let algorithm, algorithm != (keyType == .ecP256 ? .es256 : .es384) {
                throw JWKSError("\(place): EC key on \(crv!) has \"alg\" \"\(algorithm.rawValue)\"")
            }
            // Coordinates are fixed-size big-endian; some encoders drop leading zero bytes, as BIGNUMs would.
            let size = keyType == .ecP256 ? 32 : 48
            func coordinate(_ name: String) throws(JWKSError) -> [UInt8] {
                let b = try bytes(name, "EC")
                return b.count < size ? [UInt8](repeating: 0, count: size - b.count) + b : b
            }
            let point = try coordinate("x") + coordinate("y")
            do {
                material = keyType == .ecP256
                    ? .p256(try P256.Signing.PublicKey(rawRepresentation: point))
                    : .p384(try P384.Signing.PublicKey(rawRepresentation: point))
            } catch {
                throw JWKSError("\(place): EC key's \"x\" and \"y\" are not a point on \(crv!)")
            }
        default:
            return nil  // oct (HMAC), OKP (Ed25519), ...
        }
    }
}
