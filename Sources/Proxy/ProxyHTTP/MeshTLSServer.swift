import Crypto
import NIOCore
import NIOSSL
import ProxyConfig
import ProxyUpstream

/// An inbound listener with mesh mTLS: looks at the first byte of a connection (a TLS record starts with 0x16,
/// as Envoy's tls_inspector sees it), puts the TLS server handler in front of the listener's own handlers for
/// TLS, lets plaintext through only when the listener is PERMISSIVE, and closes anything else. Then it steps
/// out of the way and replays what it read.
final class MeshTLSSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let tls: DownstreamMeshTLS
    let credentials: MeshCredentials
    /// Adds the listener's handlers right after this one; `clientCert` is the TLS peer for x-forwarded-client-cert.
    let install: (ChannelHandlerContext, PeerCertificateLookup?) throws -> Void
    var buffered: ByteBuffer?

    init(tls: DownstreamMeshTLS, credentials: MeshCredentials,
         install: @escaping (ChannelHandlerContext, PeerCertificateLookup?) throws -> Void) {
        self.tls = tls
        self.credentials = credentials
        self.install = install
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffered == nil { buffered = incoming } else { buffered!.writeBuffer(&incoming) }
        guard let first = buffered!.readableBytesView.first else { return }
        do {
            if first == 0x16 {
                guard let contexts = credentials.current, let server = contexts.server(alpn: tls.alpn) else {
                    context.close(promise: nil)  // no certificate yet: nothing to answer TLS with
                    return
                }
                // Listener handlers first, then TLS in front of them (both right after this handler).
                try install(context, tls.forwardClientCert ? PeerCertificateLookup(localIdentity: contexts.identity) : nil)
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: server), position: .after(context.handler))
            } else if tls.permissive {
                try install(context, nil)
            } else {
                context.close(promise: nil)  // STRICT: plaintext is refused
                return
            }
        } catch {
            context.close(promise: nil)
            return
        }
        let data = buffered!
        buffered = nil
        context.fireChannelRead(wrapInboundOut(data))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Makes the x-forwarded-client-cert value of an mTLS connection once its handshake is done, as Envoy's
/// SANITIZE_SET with `uri`: `By=<this workload>;Hash=<SHA-256 of the caller's certificate>;URI=<the caller>`.
struct PeerCertificateLookup {
    let localIdentity: String

    func header(_ pipeline: ChannelPipeline.SynchronousOperations) -> String? {
        guard let cert = try? pipeline.nioSSL_peerCertificate(), let der = try? cert.toDERBytes() else { return nil }
        let hash = SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
        let uri = MeshTLSContexts.uriSANs(cert).first ?? ""
        return "By=\(localIdentity);Hash=\(hash);URI=\(uri)"
    }
}
