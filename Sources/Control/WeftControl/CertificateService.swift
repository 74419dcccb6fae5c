import EnvoyAPI
import Foundation
import GRPCCore
import Logging
import SwiftProtobuf
import WeftCA
import WeftCore
import WeftModel
import XDSServer

/// Istio's certificate service, served beside ADS: a proxy that makes its own key (weft proxy) sends a CSR and
/// gets its chain, leaf first and the root last. The identity asked for (the request's namespace and service
/// account) must be one the caller's credential holds: a join token the first time, its mesh certificate at
/// each renewal.
struct CertificateService: Istio_V1_Auth_IstioCertificateService.ServiceProtocol {
    let ca: MeshCA
    let book: ProxyStatusBook
    let clock: any WallClock
    let logger: Logger
    let authenticator: (any XDSAuthenticator)?

    func createCertificate(request: ServerRequest<Istio_V1_Auth_IstioCertificateRequest>,
                           context: ServerContext) async throws -> ServerResponse<Istio_V1_Auth_IstioCertificateResponse> {
        let message = request.message
        func meta(_ key: String) -> String? {
            if case let .stringValue(s)? = message.metadata.fields[key]?.kind, !s.isEmpty { return s }
            return nil
        }
        let claimed = WorkloadIdentity(namespace: meta(NodeMetadataKey.namespace) ?? "default",
                                       serviceAccount: meta(NodeMetadataKey.serviceAccount))
        let identity = claimed.spiffe(trustDomain: ca.trustDomain)
        do {
            let caller = try authenticator?.caller(metadata: request.metadata, context: context) ?? .anyone
            guard caller.permits(claimed) else { throw caller.refusal(claimed: claimed, what: "the certificate request") }
            let issued: IssuedCertificate
            do { issued = try ca.sign(csrPEM: message.csr, as: identity, now: Date(timeIntervalSince1970: clock.now())) } catch {
                throw RPCError(code: .invalidArgument, message: "\(error)")
            }
            logger.info("issued certificate", metadata: ["identity": "\(identity)", "serial": "\(issued.serial)", "caller": "\(caller)"])
            if let node = meta(NodeMetadataKey.nodeID) {
                book.issued(node: node, CertificateStatus(identity: identity.uri, serial: issued.serial,
                                                          expiresAt: issued.notAfter.timeIntervalSince1970))
            }
            var response = Istio_V1_Auth_IstioCertificateResponse()
            response.certChain = issued.chainBlocks + [ca.rootPEM]
            return ServerResponse(message: response)
        } catch {
            logger.error("certificate refused", metadata: ["identity": "\(identity)", "peer": "\(context.remotePeer)", "error": "\(error)"])
            throw error
        }
    }
}
