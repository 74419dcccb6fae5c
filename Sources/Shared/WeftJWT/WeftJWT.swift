// WeftJWT: JSON Web Token verification for request authentication (Istio's RequestAuthentication, Envoy's
// jwt_authn filter). A `JWKS` is parsed once, when its JSON arrives, into ready RSA and EC public keys; a request's
// token is decoded into a `JWT` (header, claims, signing input) and checked with `JWTVerifier`: signature against
// the key set (RS/PS 256/384/512, ES256, ES384), then time (`exp`, `nbf` with clock skew), issuer and audiences.
// Failures are `JWTError`s whose `message` is Envoy's text, so a 401 body reads as Envoy's would. Claims are WeftCore
// `JSONValue`s, looked up by path for Istio's `request.auth.claims[a][b]`. Pure: no I/O, no clock (the caller
// passes `now`), no NIO.

/// Why a token was refused; `message` is the text Envoy's jwt_authn filter gives for the same failure.
public enum JWTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The request carried no token.
    case missing
    /// Not three base64url sections, or a header or payload that is not a JSON object, or a claim of the wrong type.
    case malformed
    /// The header has no `alg`, or `alg` is not a string.
    case algorithmMissing
    /// The header's `alg` is not one Weft verifies (`none` and the HMAC `HS*` algorithms are refused).
    case algorithmUnsupported
    /// `exp` is in the past, beyond the clock skew.
    case expired
    /// `nbf` is in the future, beyond the clock skew.
    case notYetValid
    /// `iss` is not the issuer the provider is configured with.
    case unknownIssuer
    /// None of the token's audiences is allowed.
    case audienceNotAllowed
    /// No key in the set matches the token's `kid` and `alg`.
    case noMatchingKey
    /// Keys matched, but none verifies the signature.
    case verificationFailed

    /// Envoy's text for this failure.
    public var message: String {
        switch self {
        case .missing: "Jwt is missing"
        case .malformed: "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"
        case .algorithmMissing: "Jwt header [alg] field is required and must be a string"
        case .algorithmUnsupported: "Jwt header [alg] is not supported"
        case .expired: "Jwt is expired"
        case .notYetValid: "Jwt not yet valid"
        case .unknownIssuer: "Jwt issuer is not configured"
        case .audienceNotAllowed: "Audiences in Jwt are not allowed"
        case .noMatchingKey: "Jwks doesn't have key to match kid or alg from Jwt"
        case .verificationFailed: "Jwt verification fails"
        }
    }

    public var description: String { message }
}

/// A JWS signing algorithm Weft verifies (RFC 7518 section 3).
public enum JWTAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// RSASSA-PKCS1-v1_5 with SHA-256, SHA-384, SHA-512.
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    /// RSASSA-PSS (MGF1 with the same hash, salt as long as the hash) with SHA-256, SHA-384, SHA-512.
    case ps256 = "PS256", ps384 = "PS384", ps512 = "PS512"
    /// ECDSA on P-256 with SHA-256.
    case es256 = "ES256"
    /// ECDSA on P-384 with SHA-384.
    case es384 = "ES384"

    /// Whether the algorithm takes an RSA key (else an EC key).
    public var usesRSA: Bool {
        switch self {
        case .es256, .es384: false
        default: true
        }
    }
}
