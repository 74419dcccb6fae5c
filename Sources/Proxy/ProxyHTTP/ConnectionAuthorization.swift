import NIOCore
import NIOSSL
import ProxyConfig
import ProxyRouting
import ProxyUpstream

/// A downstream connection's facts for authorization, read once when it is ready (after the TLS handshake): the
/// socket addresses as bytes, the SNI the ClientHello asked for, the peer certificate's URI and DNS SANs. Its
/// network RBAC filters are checked here too, before anything is proxied.
enum ConnectionAuthorization {
    /// The connection's facts, and the peer certificate (for x-forwarded-client-cert) on TLS.
    static func facts(_ channel: any Channel, tls: DownstreamTLSState?) -> (ConnectionFacts, NIOSSLCertificate?) {
        var peer: PeerCertificateFacts?
        var cert: NIOSSLCertificate?
        if tls != nil {
            cert = try? channel.pipeline.syncOperations.nioSSL_peerCertificate()
            var p = PeerCertificateFacts()
            if let cert {
                for san in cert._subjectAlternativeNames() {
                    if san.nameType == .uri { p.uriSANs.append(String(decoding: Array(san.contents), as: UTF8.self)) }
                    if san.nameType == .dnsName { p.dnsSANs.append(String(decoding: Array(san.contents), as: UTF8.self)) }
                }
            }
            peer = p
        }
        let facts = ConnectionFacts(peerAddress: bytes(channel.remoteAddress), localAddress: bytes(channel.localAddress),
                                    localPort: channel.localAddress?.port ?? 0, serverName: tls?.serverName ?? "", peer: peer)
        return (facts, cert)
    }

    /// The network-order bytes of an IP socket address.
    static func bytes(_ a: SocketAddress?) -> [UInt8]? {
        switch a {
        case let .v4(x)?: return withUnsafeBytes(of: x.address.sin_addr) { Array($0) }
        case let .v6(x)?: return withUnsafeBytes(of: x.address.sin6_addr) { Array($0) }
        default: return nil
        }
    }

    /// Runs the listener's network RBAC filters (Envoy's `envoy.filters.network.rbac`) in order; false when one
    /// denies the connection (counted and logged by the check), which the caller then closes.
    static func admits(_ filters: [RBACFilterConfig], _ facts: ConnectionFacts, worker: Worker) -> Bool {
        for f in filters {
            let denied = RBACCheck.run(f, ConnectionInput(facts), worker: worker.filterState, subject: "connection",
                                       describe: { RBACCheck.describe(facts) })
            if denied != nil { return false }
        }
        return true
    }
}
