import NIOCore
import NIOSSL
import ProxyConfig
import ProxyUpstream
import WeftCore

/// An inbound listener with mesh mTLS: looks at the first byte of a connection (a TLS record starts with 0x16,
/// as Envoy's tls_inspector sees it), puts the TLS server handler in front of the listener's own handlers for
/// TLS, lets plaintext through only when the listener is PERMISSIVE, and closes anything else. Then it steps
/// out of the way and replays what it read.
final class MeshTLSSniffer: FirstBytesHandler {

    let tls: DownstreamMeshTLS
    let credentials: MeshCredentials
    /// Adds the listener's handlers right after this one; `clientCert` is the TLS peer for x-forwarded-client-cert.
    let install: (ChannelHandlerContext, PeerCertificateLookup?) throws -> Void

    init(tls: DownstreamMeshTLS, credentials: MeshCredentials,
         install: @escaping (ChannelHandlerContext, PeerCertificateLookup?) throws -> Void) {
        self.tls = tls
        self.credentials = credentials
        self.install = install
    }

    override func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let first = buffer(data).readableBytesView.first else { return }
        decide(context) {
            if first == 0x16 {
                // No certificate yet: nothing to answer TLS with.
                guard let contexts = credentials.current, let server = contexts.server(alpn: tls.alpn) else { throw MeshTLSError.noCredentials }
                // Listener handlers first, then TLS in front of them (both right after this handler).
                try install(context, tls.forwardClientCert ? PeerCertificateLookup(localIdentity: contexts.identity) : nil)
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: server), position: .after(context.handler))
            } else if tls.permissive {
                try install(context, nil)
            } else {
                throw MeshTLSError.plaintextRefused  // STRICT
            }
        }
    }
}

/// Makes the x-forwarded-client-cert value of an mTLS connection once its handshake is done, as Envoy's
/// SANITIZE_SET with `uri`: `By=<this workload>;Hash=<SHA-256 of the caller's certificate>;URI=<the caller>`.
struct PeerCertificateLookup {
    let localIdentity: String

    func header(_ pipeline: ChannelPipeline.SynchronousOperations) -> String? {
        guard let cert = try? pipeline.nioSSL_peerCertificate(), let der = try? cert.toDERBytes() else { return nil }
        let hash = SHA256Digest.hex(der)
        let uri = MeshTLSContexts.uriSANs(cert).first ?? ""
        return "By=\(localIdentity);Hash=\(hash);URI=\(uri)"
    }
}
