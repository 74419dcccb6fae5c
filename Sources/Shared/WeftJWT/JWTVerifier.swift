import Crypto
import CryptoExtras

// Checking a decoded JWT as Envoy's jwt_authn does: the signature against the provider's key set, then time,
// issuer and audiences. Keys come ready from JWKS; each check hashes the signing input once.

/// The checks of a decoded `JWT`. Each returns nil when the token passes, else the `JWTError` to answer with.
public enum JWTVerifier {
    /// Envoy's default clock skew for `exp` and `nbf`, in seconds.
    public static let defaultClockSkew: Double = 60

    /// Checks the token's signature against `keys`. A key is a candidate when its `kid` is the token's (a key
    /// without `kid` is a candidate for any token, as in Envoy) and its type, curve and `alg` fit the token's
    /// `alg`. No candidate is `.noMatchingKey`; candidates none of which verifies is `.verificationFailed`.
    public static func verify(_ jwt: JWT, keys: JWKS) -> JWTError? {
        let kid = jwt.keyID, alg = jwt.algorithm
        let fits = { (key: JWK) in (kid == nil || key.keyID == nil || key.keyID == kid) && key.fits(alg) }
        guard keys.keys.contains(where: fits) else { return .noMatchingKey }
        let input = jwt.signingInput, sig = jwt.signature, all = keys.keys
        let ok: Bool
        switch alg {
        case .rs256: ok = rsa(all, fits, sig, SHA256.hash(data: input), .insecurePKCS1v1_5)
        case .rs384: ok = rsa(all, fits, sig, SHA384.hash(data: input), .insecurePKCS1v1_5)
        case .rs512: ok = rsa(all, fits, sig, SHA512.hash(data: input), .insecurePKCS1v1_5)
        case .ps256: ok = rsa(all, fits, sig, SHA256.hash(data: input), .PSS)
        case .ps384: ok = rsa(all, fits, sig, SHA384.hash(data: input), .PSS)
        case .ps512: ok = rsa(all, fits, sig, SHA512.hash(data: input), .PSS)
        case .es256:
            // JWS carries r || s, 32 bytes each.
            guard let s = try? P256.Signing.ECDSASignature(rawRepresentation: sig) else { return .verificationFailed }
            let digest = SHA256.hash(data: input)
            ok = all.contains { key in
                guard fits(key), case let .p256(k) = key.material else { return false }
                return k.isValidSignature(s, for: digest)
            }
        case .es384:
            guard let s = try? P384.Signing.ECDSASignature(rawRepresentation: sig) else { return .verificationFailed }
            let digest = SHA384.hash(data: input)
            ok = all.contains { key in
                guard fits(key), case let .p384(k) = key.material else { return false }
                return k.isValidSignature(s, for: digest)
            }
        }
        return ok ? nil : .verificationFailed
    }

    private static func rsa(
        _ keys: [JWK], _ fits: (JWK) -> Bool, _ sig: [UInt8], _ digest: some Digest, _ padding: _RSA.Signing.Padding
    ) -> Bool {
        let s = _RSA.Signing.RSASignature(rawRepresentation: sig)
        return keys.contains { key in
            guard fits(key), case let .rsa(k) = key.material else { return false }
            return k.isValidSignature(s, for: digest, padding: padding)
        }
    }

    /// Checks `exp` and `nbf` against `now` (seconds since the epoch), allowing `clockSkew` seconds either way:
    /// `.notYetValid` when `now + clockSkew < nbf`, `.expired` when `now - clockSkew > exp`.
    public static func checkTime(_ jwt: JWT, now: Double, clockSkew: Double = defaultClockSkew) -> JWTError? {
        if let nbf = jwt.notBefore, now + clockSkew < nbf { return .notYetValid }
        if let exp = jwt.expiresAt, now - clockSkew > exp { return .expired }
        return nil
    }

    /// Checks `iss` against the provider's issuer; an empty `issuer` accepts any.
    public static func checkIssuer(_ jwt: JWT, issuer: String) -> JWTError? {
        issuer.isEmpty || jwt.issuer == issuer ? nil : .unknownIssuer
    }

    /// Checks that one of the token's audiences is in `allowed`; an empty `allowed` accepts any token. As in
    /// Envoy, an `http://` or `https://` prefix and a trailing `/` are ignored on both sides.
    public static func checkAudiences(_ jwt: JWT, allowed: [String]) -> JWTError? {
        if allowed.isEmpty { return nil }
        let wanted = Set(allowed.map(normalizedAudience))
        return jwt.audiences.contains { wanted.contains(normalizedAudience($0)) } ? nil : .audienceNotAllowed
    }

    private static func normalizedAudience(_ aud: String) -> Substring {
        var s = Substring(aud)
        if s.hasPrefix("https://") { s = s.dropFirst(8) } else if s.hasPrefix("http://") { s = s.dropFirst(7) }
        if s.hasSuffix("/") { s = s.dropLast() }
        return s
    }
}

extension JWT {
    /// `JWTVerifier.checkTime(self, now:clockSkew:)`.
    public func checkTime(now: Double, clockSkew: Double = JWTVerifier.defaultClockSkew) -> JWTError? {
        JWTVerifier.checkTime(self, now: now, clockSkew: clockSkew)
    }

    /// `JWTVerifier.verify(self, keys:)`.
    public func verify(keys: JWKS) -> JWTError? {
        JWTVerifier.verify(self, keys: keys)
    }
}
