import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SwiftASN1
import WeftCore
import X509

/// Learns the mesh root from the control plane itself, for a proxy that has only its join token: one TLS
/// handshake with the xDS port, whose chain must contain the root the token's fingerprint names and lead from
/// a control plane identity to it. Nothing is sent. `weft bootstrap envoy` writes the root it finds into
/// Envoy's bootstrap.
public enum RootDiscovery {
    public static func fetchRoot(_ link: ControlPlaneLink, group: any EventLoopGroup, timeout: Duration = .seconds(10)) async throws -> String {
        guard let anchor = link.anchor else { throw Diagnostic(path: "--token", message: "a join token or --ca-cert is needed to trust the control plane") }
        if case let .root(pem) = anchor { return pem }
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateVerification = .noHostnameVerification
        config.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(link.throwaway.certPEM.utf8)).map { .certificate($0) }
        config.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(link.throwaway.keyPEM.utf8), format: .pem))
        config.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: config)
        let found = NIOLockedValueBox<Result<Certificate, any Error>?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.init(timeout))
            .connect(host: link.address.host, port: link.address.port).get()
        defer { channel.close(promise: nil) }
        let done = channel.eventLoop.makePromise(of: Void.self)
        try await channel.eventLoop.submit {
            let tls = try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, promise in
                do {
                    let root = try ControlPlaneVerifier.verify(chainDER: try certificates.map { try $0.toDERBytes() }, anchor: anchor)
                    found.withLockedValue { $0 = .success(root) }
                    promise.succeed(.certificateVerified)
                } catch {
                    found.withLockedValue { $0 = .failure(error) }
                    promise.succeed(.failed)
                }
            }
            try channel.pipeline.syncOperations.addHandlers([tls, HandshakeWatcher(done: done)])
        }.get()
        let deadline = channel.eventLoop.scheduleTask(in: .init(timeout)) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        do { try await done.futureResult.get() } catch {
            if case let .failure(why)? = found.withLockedValue({ $0 }) { throw why }
            throw error
        }
        guard case let .success(root)? = found.withLockedValue({ $0 }) else {
            throw Diagnostic(path: "--control-plane", message: "the control plane presented no certificate")
        }
        return try root.serializeAsPEM().pemString
    }

    /// Completes `done` once: at the end of the handshake, or with the error or close that ended it.
    final class HandshakeWatcher: ChannelInboundHandler {
        typealias InboundIn = NIOAny
        let done: EventLoopPromise<Void>
        var finished = false

        init(done: EventLoopPromise<Void>) { self.done = done }

        func finish(_ result: Result<Void, any Error>) {
            guard !finished else { return }
            finished = true
            done.completeWith(result)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted? = event as? TLSUserEvent { finish(.success(())) }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { finish(.failure(error)) }

        func channelInactive(context: ChannelHandlerContext) {
            finish(.failure(Diagnostic(path: "--control-plane", message: "the connection closed during the TLS handshake")))
        }
    }
}
