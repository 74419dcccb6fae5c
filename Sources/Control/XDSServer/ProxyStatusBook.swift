import Foundation
import EnvoyAPI
import Synchronization
import WeftModel

/// What the control plane knows about one proxy's sync state.
public struct ProxyStatus: Sendable, Codable {
    public var id: String
    public var namespace: String
    public var labels: [String: String]
    public var connected: Bool
    public var connectedAt: Double
    /// The last version each type was ACKed at, by type URL.
    public var acked: [String: String] = [:]
    /// The last version sent for each type.
    public var sent: [String: String] = [:]
    /// The newest NACK's text with its type, or nil when the proxy accepted everything since.
    public var nack: String?
    /// The newest mesh (registry) version whose every response the proxy has answered: the proxy is in sync
    /// with that version, or a NACK for it is in `nack`.
    public var syncedVersion: Int?
    /// The workload certificate the proxy was last sent, when it takes mesh mTLS.
    public var certificate: CertificateStatus?
    /// The admin address the proxy gave (its metrics), and which data plane it is (`weft` or `envoy`).
    public var admin: String?
    public var dataPlane = "envoy"
}

/// A proxy's current workload certificate, for `weft status`.
public struct CertificateStatus: Sendable, Codable {
    public var identity: String
    public var serial: String
    public var expiresAt: Double

    public init(identity: String, serial: String, expiresAt: Double) {
        self.identity = identity
        self.serial = serial
        self.expiresAt = expiresAt
    }
}

/// The status of every proxy that has connected, for the status API.
public final class ProxyStatusBook: Sendable {
    let proxies = Mutex<[String: ProxyStatus]>([:])
    let certificates = Mutex<[String: CertificateStatus]>([:])

    public init() {}

    public func all() -> [ProxyStatus] { proxies.withLock { p in p.keys.sorted().map { p[$0]! } } }

    /// Records the certificate issued to a proxy by the certificate service (weft proxy's CSR, which comes before
    /// its ADS stream), by node id.
    public func issued(node: String, _ certificate: CertificateStatus) {
        certificates.withLock { $0[node] = certificate }
        update(node) { $0.certificate = certificate }
    }

    func connected(_ node: ProxyNode) {
        let cert = certificates.withLock { $0[node.id] }
        proxies.withLock {
            var s = ProxyStatus(id: node.id, namespace: node.namespace, labels: node.labels, connected: true,
                                connectedAt: Date().timeIntervalSince1970, certificate: cert)
            s.admin = node.admin?.description
            s.dataPlane = node.userAgent == WeftClientFeature.userAgent ? "weft" : "envoy"
            $0[node.id] = s
        }
    }

    func update(_ id: String, _ change: (inout ProxyStatus) -> Void) {
        proxies.withLock { p in
            if var s = p[id] {
                change(&s)
                p[id] = s
            }
        }
    }
}
