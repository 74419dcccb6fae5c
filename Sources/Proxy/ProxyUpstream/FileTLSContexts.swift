import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ProxyConfig

/// Client TLS contexts for DestinationRule SIMPLE / MUTUAL: built from the user's files the first time a
/// connection needs them and kept per file set and ALPN list (as Envoy loads a cluster's files once); a file
/// that changes is read again on the next new context (when the config names other files).
final class FileTLSContexts: Sendable {
    struct Key: Hashable {
        var files: UpstreamTLSFiles
        var alpn: [String]
    }

    let cache = NIOLockedValueBox<[Key: NIOSSLContext]>([:])

    func context(_ files: UpstreamTLSFiles, alpn: [String]) throws -> NIOSSLContext {
        let key = Key(files: files, alpn: alpn)
        if let c = cache.withLockedValue({ $0[key] }) { return c }
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        config.applicationProtocols = alpn
        if let ca = files.caCertificates {
            config.trustRoots = .file(ca)
            // Envoy checks the chain against trusted_ca and matches no host name unless SANs are given.
            config.certificateVerification = .noHostnameVerification
        } else {
            config.certificateVerification = .none  // an UpstreamTlsContext without a validation context
        }
        if let chain = files.certificateChain, let key = files.privateKey {
            config.certificateChain = try NIOSSLCertificate.fromPEMFile(chain).map { .certificate($0) }
            config.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        let context = try NIOSSLContext(configuration: config)
        cache.withLockedValue { $0[key] = context }
        return context
    }

    /// A handler for one connection; SNI is the configured name unless it is an IP address.
    func clientHandler(_ tls: UpstreamMeshTLS, files: UpstreamTLSFiles) throws -> NIOSSLClientHandler {
        let sni = tls.sni.isEmpty || tls.sni.allSatisfy({ $0.isNumber || $0 == "." }) || tls.sni.contains(":") ? nil : tls.sni
        return try NIOSSLClientHandler(context: try context(files, alpn: tls.alpn), serverHostname: sni)
    }
}
