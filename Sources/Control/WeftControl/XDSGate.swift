import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOSSL
import WeftCA
import WeftCore
import WeftModel
import XDSServer

/// Who may use the xDS port: a caller with a certificate from this mesh's CA (the TLS handshake proved it
/// holds the key) is that workload; else a bearer token in the `authorization` metadata (a join token is its
/// namespace and service account, the admin token anyone); else the call is refused as unauthenticated.
struct MeshXDSAuthenticator: XDSAuthenticator {
    let ca: MeshCA
    let tokens: TokenAuthority
    let clock: any WallClock

    func caller(metadata: Metadata, context: ServerContext) throws -> XDSCaller {
        var certificateProblem: String?
        if let tls = context.transportSpecific as? HTTP2ServerTransport.Posix.Context, let leaf = tls.peerCertificate {
            do {
                let id = try ca.verifyIssued(leaf, now: Date(timeIntervalSince1970: clock.now()))
                return .workload(WorkloadIdentity(namespace: id.namespace, serviceAccount: id.serviceAccount), via: .certificate)
            } catch {
                // Not a mesh certificate (a proxy that has none yet presents a throwaway one): the token decides.
                certificateProblem = "\(error)"
            }
        }
        if let header = metadata[stringValues: "authorization"].first(where: { $0.lowercased().hasPrefix("bearer ") }) {
            let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
            do {
                let claims = try tokens.verify(token, now: clock.now())
                switch claims.kind {
                case .admin: return .admin
                case .join:
                    guard let ns = claims.namespace, let sa = claims.serviceAccount else {
                        throw RPCError(code: .unauthenticated, message: "the token has no namespace and service account")
                    }
                    return .workload(WorkloadIdentity(namespace: ns, serviceAccount: sa), via: .token)
                }
            } catch let e as TokenAuthority.Refusal {
                throw RPCError(code: .unauthenticated, message: "\(e)")
            }
        }
        var why = "xDS needs a credential: a certificate from this mesh's CA, or a join token (metadata authorization: Bearer TOKEN; weft token create)"
        if let certificateProblem { why += "; \(certificateProblem)" }
        throw RPCError(code: .unauthenticated, message: why)
    }
}

/// The xDS port's TLS: the control plane's own certificate from the mesh CA (the chain ends with the root, so
/// a joining proxy can match it to its token's fingerprint), and a client certificate asked of every caller.
/// Any certificate completes the handshake; MeshXDSAuthenticator then decides whether it is a credential.
enum XDSServerTLS {
    static func make(ca: MeshCA, namespace: String, now: Date) throws -> HTTP2ServerTransport.Posix.TransportSecurity {
        let (cert, key) = try ca.issueControlPlane(namespace: namespace, now: now)
        let chain = (cert.chainBlocks + [ca.rootPEM]).map { TLSConfig.CertificateSource.bytes(Array($0.utf8), format: .pem) }
        var tls = HTTP2ServerTransport.Posix.TransportSecurity.TLS(
            certificateChain: chain, privateKey: .bytes(Array(key.utf8), format: .pem),
            clientCertificateVerification: .noHostnameVerification,
            trustRoots: .certificates([.bytes(Array(ca.rootPEM.utf8), format: .pem)]), requireALPN: false)
        tls.customVerificationCallback = { _, promise in promise.succeed(.certificateVerified(VerificationMetadata(nil))) }
        return .tls(tls)
    }
}
