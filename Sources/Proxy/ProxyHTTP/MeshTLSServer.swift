import NIOCore
import NIOSSL
import NIOTLS
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
    /// An authorization rule reads the TLS server name: the ClientHello's SNI is read on its way to TLS.
    let readsServerName: Bool
    /// Adds the listener's handlers right after this one; `tls` is the TLS connection's state (nil: plaintext).
    let install: (ChannelHandlerContext, DownstreamTLSState?) throws -> Void

    init(tls: DownstreamMeshTLS, credentials: MeshCredentials, readsServerName: Bool = false,
         install: @escaping (ChannelHandlerContext, DownstreamTLSState?) throws -> Void) {
        self.tls = tls
        self.credentials = credentials
        self.readsServerName = readsServerName
        self.install = install
    }

    override func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let first = buffer(data).readableBytesView.first else { return }
        decide(context) {
            if first == 0x16 {
                // No certificate yet: nothing to answer TLS with.
                guard let contexts = credentials.current, let server = contexts.server(alpn: tls.alpn) else { throw MeshTLSError.noCredentials }
                let state = DownstreamTLSState(forwardAs: tls.forwardClientCert ? contexts.identity : nil)
                // Listener handlers first, then TLS in front of them, then the SNI reader in front of TLS (each right
                // after this handler).
                try install(context, state)
                let sync = context.pipeline.syncOperations
                try sync.addHandler(NIOSSLServerHandler(context: server), position: .after(context.handler))
                if readsServerName {
                    let loop = context.eventLoop
                    try sync.addHandler(ByteToMessageHandler(SNIHandler { result in
                        if case let .hostname(name) = result { state.serverName = name }
                        return loop.makeSucceededVoidFuture()
                    }), position: .after(context.handler))
                }
            } else if tls.permissive {
                try install(context, nil)
            } else {
                throw MeshTLSError.plaintextRefused  // STRICT
            }
        }
    }
}

/// What the listener's handlers know of a TLS connection: the server name its ClientHello asked for (when the
/// listener reads it) and, when the listener forwards the caller's identity, this workload's own identity for
/// x-forwarded-client-cert. Filled before the handshake completes, read after; one event loop only.
final class DownstreamTLSState {
    /// This workload's SPIFFE ID (`By=`) when requests carry x-forwarded-client-cert; nil: they do not.
    let forwardAs: String?
    var serverName = ""

    init(forwardAs: String?) { self.forwardAs = forwardAs }

    /// The x-forwarded-client-cert value for the caller's certificate, as Envoy's SANITIZE_SET with `uri`:
    /// `By=<this workload>;Hash=<SHA-256 of the caller's certificate>;URI=<the caller>`.
    func clientCertHeader(_ cert: NIOSSLCertificate?) -> String? {
        guard let forwardAs, let cert, let der = try? cert.toDERBytes() else { return nil }
        let uri = MeshTLSContexts.uriSANs(cert).first ?? ""
        return "By=\(forwardAs);Hash=\(SHA256Digest.hex(der));URI=\(uri)"
    }
}
