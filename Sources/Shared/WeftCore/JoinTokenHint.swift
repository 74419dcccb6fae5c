import Foundation

/// What a proxy may read from its join token without the control plane's key (`weft.<claims>.<signature>`):
/// the identity it is for, its expiry and the mesh root's fingerprint. Only hints: the control plane checks the
/// signature; the proxy uses the fingerprint to recognise the mesh root before it sends the token anywhere.
public struct JoinTokenHint: Sendable, Equatable {
    public var namespace: String?
    public var serviceAccount: String?
    public var expiresAt: Double?
    /// SHA-256 of the mesh root certificate's DER, lower-case hex.
    public var rootFingerprint: String?

    struct Claims: Decodable {
        var ns: String?
        var sa: String?
        var exp: Double?
        var ca: String?
    }

    /// nil when `token` is not shaped like a Weft token.
    public init?(token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "weft" else { return nil }
        var b64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let c = try? JSONDecoder().decode(Claims.self, from: data) else { return nil }
        namespace = c.ns
        serviceAccount = c.sa
        expiresAt = c.exp
        rootFingerprint = c.ca
    }
}
