import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ProxyConfig

/// The proxy's mesh identity as TLS contexts: its certificate chain and key (made in this process) and the mesh
/// root, for both sides of mTLS. Built once per certificate (at start and at each renewal) and swapped whole:
/// new connections take the newest, open ones keep theirs.
public struct MeshTLSContexts: Sendable {
    /// The proxy's SPIFFE ID (`By=` in x-forwarded-client-cert).
    public let identity: String
    public let serial: String
    let servers: [[String]: NIOSSLContext]
    let clients: [[String]: NIOSSLContext]

    static let alpnSets: [[String]] = [[], ["h2"], ["http/1.1"], ["h2", "http/1.1"]]

    /// From PEM: the chain (leaf first), the private key and the root.
    public init(identity: String, serial: String, chainPEM: String, keyPEM: String, rootPEM: String) throws {
        self.identity = identity
        self.serial = serial
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(chainPEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        let roots = NIOSSLTrustRoots.certificates(try NIOSSLCertificate.fromPEMBytes(Array(rootPEM.utf8)))
        var servers: [[String]: NIOSSLContext] = [:], clients: [[String]: NIOSSLContext] = [:]
        for alpn in Self.alpnSets {
            var s = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
            s.trustRoots = roots
            s.certificateVerification = .noHostnameVerification  // a client certificate from the mesh root is required
            s.applicationProtocols = alpn
            s.minimumTLSVersion = .tlsv12
            servers[alpn] = try NIOSSLContext(configuration: s)
            var c = TLSConfiguration.makeClientConfiguration()
            c.certificateChain = chain
            c.privateKey = key
            c.trustRoots = roots
            c.certificateVerification = .noHostnameVerification  // the SPIFFE ID is checked instead of a host name
            c.applicationProtocols = alpn
            c.minimumTLSVersion = .tlsv12
            clients[alpn] = try NIOSSLContext(configuration: c)
        }
        self.servers = servers
        self.clients = clients
    }

    public func server(alpn: [String]) -> NIOSSLContext? { servers[alpn] }

    /// A client handler for `tls`: the server's chain must reach the mesh root (BoringSSL checks it) and its URI SAN
    /// be one of the service's identities (checked before the handshake completes, so nothing is sent otherwise).
    public func clientHandler(_ tls: UpstreamMeshTLS) throws -> NIOSSLClientHandler {
        guard let ctx = clients[tls.alpn] ?? clients[[]] else { throw MeshTLSError.noContext }
        let allowed = Set(tls.identities)
        return try NIOSSLClientHandler._makeSSLClientHandler(context: ctx, serverHostname: nil) { cert, channel in
            guard allowed.isEmpty || MeshTLSContexts.uriSANs(cert).contains(where: allowed.contains) else {
                return channel.eventLoop.makeFailedFuture(MeshTLSError.unexpectedIdentity(MeshTLSContexts.uriSANs(cert)))
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
    }

    /// The URI SANs of a certificate (a workload's SPIFFE ID).
    public static func uriSANs(_ cert: NIOSSLCertificate) -> [String] {
        cert._subjectAlternativeNames().compactMap { san in
            guard san.nameType == .uri else { return nil }
            return String(decoding: Array(san.contents), as: UTF8.self)
        }
    }
}

public enum MeshTLSError: Error, CustomStringConvertible {
    case noCredentials
    case noContext
    case plaintextRefused
    case unexpectedIdentity([String])

    public var description: String {
        switch self {
        case .noCredentials: "the proxy has no mesh certificate yet"
        case .noContext: "no TLS context for these ALPN protocols"
        case .plaintextRefused: "plaintext is refused (STRICT mTLS)"
        case let .unexpectedIdentity(ids): "the server's identity \(ids) is not one the service has"
        }
    }
}

/// The current mesh TLS contexts, read by every worker when it opens or accepts a connection.
public final class MeshCredentials: Sendable {
    let box = NIOLockedValueBox<MeshTLSContexts?>(nil)
    let files = FileTLSContexts()

    public init() {}

    public var current: MeshTLSContexts? { box.withLockedValue { $0 } }

    public func update(_ contexts: MeshTLSContexts) { box.withLockedValue { $0 = contexts } }

    /// Puts TLS first on a new upstream connection's pipeline when `tls` applies: the mesh identity (mTLS), or the
    /// user's files (DestinationRule SIMPLE / MUTUAL); nil: plaintext, nothing added.
    public func addClientTLS(_ tls: UpstreamMeshTLS?, to pipeline: ChannelPipeline.SynchronousOperations) throws {
        guard let tls else { return }
        if let f = tls.files {
            try pipeline.addHandler(try files.clientHandler(tls, files: f))
            return
        }
        guard let contexts = current else { throw MeshTLSError.noCredentials }
        try pipeline.addHandler(try contexts.clientHandler(tls))
    }
}
