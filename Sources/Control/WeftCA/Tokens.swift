import Crypto
import Foundation
import WeftCore

/// What a token lets its bearer do: everything (the admin token), or act as one workload identity (a join
/// token: register and heartbeat workloads of that namespace and service account).
public struct TokenClaims: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case admin, join }
    public var kind: Kind
    public var namespace: String?
    public var serviceAccount: String?
    /// Seconds since 1970 after which the token is refused; nil: no expiry (the admin token).
    public var expiresAt: Double?
    /// A random id, so two tokens for the same scope differ.
    public var id: String
    /// SHA-256 (hex) of the mesh root, so the bearer can check the control plane before sending the token.
    public var rootFingerprint: String?

    enum CodingKeys: String, CodingKey {
        case kind = "k", namespace = "ns", serviceAccount = "sa", expiresAt = "exp", id = "jti", rootFingerprint = "ca"
    }

    public init(kind: Kind, namespace: String? = nil, serviceAccount: String? = nil, expiresAt: Double? = nil, id: String,
                rootFingerprint: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.expiresAt = expiresAt
        self.id = id
        self.rootFingerprint = rootFingerprint
    }

    public static func join(namespace: String, serviceAccount: String, expiresAt: Double, rootFingerprint: String? = nil) -> TokenClaims {
        TokenClaims(kind: .join, namespace: namespace, serviceAccount: serviceAccount, expiresAt: expiresAt, id: randomID(),
                    rootFingerprint: rootFingerprint)
    }

    static func randomID() -> String { (0..<12).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }
}

/// Issues and checks the control plane's bearer tokens: `weft.<claims>.<HMAC-SHA256>`, both parts base64url,
/// signed with a key kept under `--data` (0600), so tokens survive restarts and need no table. A token that is
/// malformed, signed with another key or past its expiry is refused with the reason.
public struct TokenAuthority: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// The key in `dir/token-key` (made on first use), and the admin token in `dir/admin-token`, both 0600.
    public static func loadOrCreate(dir: String) throws -> (TokenAuthority, adminToken: String) {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keyPath = (dir as NSString).appendingPathComponent("token-key")
        let tokenPath = (dir as NSString).appendingPathComponent("admin-token")
        let key: SymmetricKey
        if let data = fm.contents(atPath: keyPath) {
            guard data.count == 32 else { throw Diagnostic(file: keyPath, message: "the token key must be 32 bytes, found \(data.count)") }
            key = SymmetricKey(data: data)
        } else {
            key = SymmetricKey(size: .bits256)
            try PEMFiles.write(key.withUnsafeBytes { Data($0) }, to: keyPath, mode: 0o600)
        }
        let authority = TokenAuthority(key: key)
        if let text = fm.contents(atPath: tokenPath).flatMap({ String(data: $0, encoding: .utf8) })?
            .trimmingCharacters(in: .whitespacesAndNewlines), (try? authority.verify(text, now: 0))?.kind == .admin {
            return (authority, text)
        }
        let admin = try authority.issue(TokenClaims(kind: .admin, id: TokenClaims.randomID()))
        try PEMFiles.write(Data((admin + "\n").utf8), to: tokenPath, mode: 0o600)
        return (authority, admin)
    }

    /// A key that lives as long as the process (no data folder).
    public static func ephemeral() -> (TokenAuthority, adminToken: String) {
        let a = TokenAuthority(key: SymmetricKey(size: .bits256))
        return (a, (try? a.issue(TokenClaims(kind: .admin, id: TokenClaims.randomID()))) ?? "")
    }

    public func issue(_ claims: TokenClaims) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = Self.base64url(try encoder.encode(claims))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: key)
        return "weft.\(body).\(Self.base64url(Data(mac)))"
    }

    public enum Refusal: Error, CustomStringConvertible, Equatable {
        case malformed, badSignature, expired(Double)

        public var description: String {
            switch self {
            case .malformed: "the token is malformed (want weft.<claims>.<signature>)"
            case .badSignature: "the token was not issued by this control plane"
            case let .expired(at): "the token expired at \(Date(timeIntervalSince1970: at))"
            }
        }
    }

    /// The claims of a valid token at `now` (seconds since 1970).
    public func verify(_ token: String, now: Double) throws(Refusal) -> TokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "weft", let body = Self.unbase64url(String(parts[1])),
              let mac = Self.unbase64url(String(parts[2])) else { throw .malformed }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[1].utf8), using: key) else { throw .badSignature }
        guard let claims = try? JSONDecoder().decode(TokenClaims.self, from: body) else { throw .malformed }
        if let exp = claims.expiresAt, now > 0, now >= exp { throw .expired(exp) }
        return claims
    }

    static func base64url(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ s: String) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }
}
