import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOConcurrencyHelpers
import NIOSSL
import SwiftASN1
import WeftCore
import X509

/// How the proxy reaches and proves itself to the control plane, for its xDS stream and its CSRs: TLS checked
/// against the mesh root (ControlPlaneVerifier), the proxy's mesh certificate as its credential once it has one,
/// and before that its join token (with a throwaway self-signed client certificate, which proves nothing). With
/// neither a token nor a root (a control plane run with `--insecure`), plaintext as before.
public final class ControlPlaneLink: Sendable {
    public let address: HostPort
    public let token: String?
    public let anchor: ControlPlaneAnchor?
    let current = NIOLockedValueBox<(chainPEM: String, keyPEM: String, notAfter: Date)?>(nil)
    public let throwaway: (certPEM: String, keyPEM: String)

    /// `token` and `rootFile`: `--token` and `--ca-cert`. The anchor is the file's root, else the token's fingerprint.
    public init(address: HostPort, token: String?, rootPEM: String? = nil) throws {
        self.address = address
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        if let rootPEM {
            anchor = .root(pem: rootPEM)
        } else if let t = self.token {
            guard let pin = JoinTokenHint(token: t)?.rootFingerprint else {
                throw Diagnostic(path: "--token", message: "the token carries no mesh root fingerprint: give the root with --ca-cert")
            }
            anchor = .fingerprint(pin)
        } else {
            anchor = nil
        }
        throwaway = try Self.selfSigned()
    }

    public var isPlaintext: Bool { anchor == nil }

    /// The proxy's mesh certificate, from now on its credential (until it expires).
    public func installCredential(chainPEM: String, keyPEM: String, notAfter: Date) {
        current.withLockedValue { $0 = (chainPEM, keyPEM, notAfter) }
    }

    var credential: (chainPEM: String, keyPEM: String)? {
        current.withLockedValue { c in c.flatMap { $0.notAfter > Date() ? ($0.chainPEM, $0.keyPEM) : nil } }
    }

    /// Call metadata: the token while the proxy has no valid mesh certificate; nothing after.
    public func metadata() -> Metadata {
        guard credential == nil, let token else { return [:] }
        return ["authorization": "Bearer \(token)"]
    }

    /// TLS for one connection, presenting the current credential.
    public func transportSecurity() throws -> HTTP2ClientTransport.Posix.TransportSecurity {
        guard let anchor else { return .plaintext }
        let (cert, key) = credential ?? (throwaway.certPEM, throwaway.keyPEM)
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(cert.utf8)).map { TLSConfig.CertificateSource.bytes(try $0.toDERBytes(), format: .der) }
        var tls = HTTP2ClientTransport.Posix.TransportSecurity.TLS(
            certificateChain: chain, privateKey: .bytes(Array(key.utf8), format: .pem),
            serverCertificateVerification: .noHostnameVerification, trustRoots: .systemDefault)
        tls.customVerificationCallback = { certificates, promise in
            promise.succeed(ControlPlaneVerifier.accepts(certificates, anchor: anchor) ? .certificateVerified(VerificationMetadata(nil)) : .failed)
        }
        return .tls(tls)
    }

    /// A self-signed certificate that only lets the TLS handshake finish (the xDS port asks every client for one).
    static func selfSigned() throws -> (certPEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("weft-proxy-join") }
        let now = Date()
        let cert = try Certificate(version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                                   notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
                                   issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                                   extensions: Certificate.Extensions(), issuerPrivateKey: .init(key))
        return (try cert.serializeAsPEM().pemString, key.pemRepresentation)
    }
}
