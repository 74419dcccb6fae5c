import WeftCore

// Decoding a compact JWS (RFC 7515 section 7.1) into its header fields, claims and the bytes its signature covers.
// Nothing here checks the signature or the time: see JWTVerifier.

/// A decoded, not yet verified, JSON Web Token.
public struct JWT: Sendable {
    /// The header's `alg`.
    public let algorithm: JWTAlgorithm
    /// The header's `kid`, if any.
    public let keyID: String?
    /// The decoded header (a JSON object).
    public let header: JSONValue
    /// The decoded payload (a JSON object): every claim.
    public let claims: JSONValue
    /// `iss`.
    public let issuer: String?
    /// `sub`.
    public let subject: String?
    /// `aud`: one string, or each string of an array; empty when absent.
    public let audiences: [String]
    /// `exp`, in seconds since the epoch.
    public let expiresAt: Double?
    /// `nbf`, in seconds since the epoch.
    public let notBefore: Double?
    /// `azp`, the authorized party.
    public let presenter: String?
    /// The payload section as it came, base64url (what Envoy forwards with `forward_payload_header`).
    public let payloadBase64URL: Substring
    /// `header.payload`, the ASCII bytes the signature covers.
    public let signingInput: [UInt8]
    /// The decoded signature.
    public let signature: [UInt8]

    /// Decodes `header.payload.signature`. An empty token is `.missing`; a token that is not three base64url
    /// sections with JSON-object header and payload, or whose registered claims have the wrong type, is
    /// `.malformed`; a header without a string `alg` or with one Weft does not verify is refused here too.
    public init(compact token: Substring) throws(JWTError) {
        if token.isEmpty { throw .missing }
        guard let dot1 = token.firstIndex(of: ".") else { throw .malformed }
        let rest = token[token.index(after: dot1)...]
        guard let dot2 = rest.firstIndex(of: ".") else { throw .malformed }
        let headerText = token[..<dot1]
        let payloadText = token[token.index(after: dot1)..<dot2]
        let signatureText = token[token.index(after: dot2)...]
        guard !signatureText.contains(".") else { throw .malformed }

        guard let headerBytes = Base64URL.decode(headerText), let header = JSONParser.parse(headerBytes),
              case .object = header
        else { throw .malformed }
        guard let algText = header["alg"]?.stringValue else { throw .algorithmMissing }
        guard let algorithm = JWTAlgorithm(rawValue: algText) else { throw .algorithmUnsupported }
        var keyID: String?
        if let kid = header["kid"] {
            guard let s = kid.stringValue else { throw .malformed }
            keyID = s
        }
        guard let payloadBytes = Base64URL.decode(payloadText), let claims = JSONParser.parse(payloadBytes),
              case .object = claims,
              let signature = Base64URL.decode(signatureText)
        else { throw .malformed }

        self.algorithm = algorithm
        self.keyID = keyID
        self.header = header
        self.claims = claims
        issuer = try Self.string(claims["iss"])
        subject = try Self.string(claims["sub"])
        presenter = try Self.string(claims["azp"])
        expiresAt = try Self.number(claims["exp"])
        notBefore = try Self.number(claims["nbf"])
        switch claims["aud"] {
        case nil: audiences = []
        case let .string(s)?: audiences = [s]
        case let .array(items)?:
            audiences = try items.map { (item: JSONValue) throws(JWTError) -> String in
                guard let s = item.stringValue else { throw .malformed }
                return s
            }
        default: throw .malformed
        }
        payloadBase64URL = payloadText
        signingInput = Array(token[..<dot2].utf8)
        self.signature = signature
    }

    /// Decodes `header.payload.signature`; see `init(compact:)` for `Substring`.
    public init(compact token: String) throws(JWTError) {
        try self.init(compact: Substring(token))
    }

    private static func string(_ v: JSONValue?) throws(JWTError) -> String? {
        guard let v else { return nil }
        guard let s = v.stringValue else { throw .malformed }
        return s
    }

    private static func number(_ v: JSONValue?) throws(JWTError) -> Double? {
        guard let v else { return nil }
        guard let n = v.numberValue, n.isFinite else { throw .malformed }
        return n
    }
}
