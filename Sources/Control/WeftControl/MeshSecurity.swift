import Foundation
import WeftCA
import WeftCore
import WeftModel
import XDSServer

/// The control plane's identity settings.
public struct SecuritySettings: Sendable {
    /// A folder in Istio's `cacerts` layout with the user's own CA; nil: Weft's own root under `--data`.
    public var caDirectory: URL?
    public var trustDomain = SpiffeID.defaultTrustDomain
    /// Workload certificate lifetime (at least one minute).
    public var certificateTTL = Duration.seconds(86400)
    /// Where mesh-wide PeerAuthentication lives.
    public var rootNamespace = "istio-system"
    /// The API without tokens (`--insecure`), as before tokens existed; logged as a warning.
    public var insecure = false
    /// Record the API address and admin token in the user's CLI config (`$WEFT_CONFIG` or `~/.weft/config.json`).
    public var recordInCLIConfig = true

    public init() {}
}

/// Builds the mesh CA from the settings: the user's CA files, else the root kept in `<data>/ca`, else (no data
/// folder) a root that lives as long as the process.
enum MeshCAFactory {
    static func make(_ s: SecuritySettings, dataDirectory: URL?, now: Date) throws -> MeshCA {
        let authority: SigningAuthority
        if let dir = s.caDirectory {
            authority = try SigningAuthority.load(cacerts: dir.path, now: now)
        } else if let data = dataDirectory {
            authority = try SigningAuthority.loadOrCreate(dir: data.appendingPathComponent("ca").path, trustDomain: s.trustDomain, now: now)
        } else {
            authority = try SigningAuthority.ephemeral(trustDomain: s.trustDomain, now: now)
        }
        return MeshCA(authority: authority, trustDomain: s.trustDomain, ttl: s.certificateTTL)
    }
}

/// The API's bearer tokens: the key and admin token kept in `<data>/auth` (0600), or in memory without a data
/// folder; none with `--insecure`.
enum APITokens {
    static func make(_ s: SecuritySettings, dataDirectory: URL?) throws -> (TokenAuthority, adminToken: String)? {
        if s.insecure { return nil }
        if let data = dataDirectory { return try TokenAuthority.loadOrCreate(dir: data.appendingPathComponent("auth").path) }
        return TokenAuthority.ephemeral()
    }
}

/// SDS for Envoy: a key and certificate made here for the stream's identity (Envoy cannot send a CSR; Istio
/// runs an agent beside it for that). The key travels only inside that proxy's xDS stream.
struct CASecretSource: SecretSource {
    let ca: MeshCA
    let clock: any WallClock

    func secrets(for node: ProxyNode) throws -> WorkloadSecrets? {
        let id = node.identity.spiffe(trustDomain: ca.trustDomain)
        let (cert, key) = try ca.issueWithKey(id, now: Date(timeIntervalSince1970: clock.now()))
        return WorkloadSecrets(certificateChainPEM: cert.chainPEM, privateKeyPEM: key, rootPEM: ca.rootPEM, identity: id.uri,
                               serial: cert.serial, expiresAt: cert.notAfter.timeIntervalSince1970,
                               renewAt: cert.renewAt.timeIntervalSince1970)
    }
}
