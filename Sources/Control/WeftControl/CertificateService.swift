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
/// gets its chain, leaf first and the root last. The identity comes from the request's namespace and service
/// account, as the node metadata gives it to Envoy's stream (tokens bind them to a credential later).
struct CertificateService: Istio_V1_Auth_IstioCertificateService.SimpleServiceProtocol {
    let ca: MeshCA
    let book: ProxyStatusBook
    let clock: any WallClock
    let logger: Logger

    func createCertificate(request: Istio_V1_Auth_IstioCertificateRequest,
                           context: ServerContext) async throws -> Istio_V1_Auth_IstioCertificateResponse {
        func meta(_ key: String) -> String? {
            if case let .stringValue(s)? = request.metadata.fields[key]?.kind, !s.isEmpty { return s }
            return nil
        }
        let identity = WorkloadIdentity(namespace: meta(NodeMetadataKey.namespace) ?? "default",
                                        serviceAccount: meta(NodeMetadataKey.serviceAccount)).spiffe(trustDomain: ca.trustDomain)
        do {
            let issued = try ca.sign(csrPEM: request.csr, as: identity, now: Date(timeIntervalSince1970: clock.now()))
            logger.info("issued certificate", metadata: ["identity": "\(identity)", "serial": "\(issued.serial)"])
            if let node = meta(NodeMetadataKey.nodeID) {
                book.issued(node: node, CertificateStatus(identity: identity.uri, serial: issued.serial,
                                                          expiresAt: issued.notAfter.timeIntervalSince1970))
            }
            var response = Istio_V1_Auth_IstioCertificateResponse()
            response.certChain = issued.chainBlocks + [ca.rootPEM]
            return response
        } catch {
            logger.error("certificate refused", metadata: ["identity": "\(identity)", "error": "\(error)"])
            throw RPCError(code: .invalidArgument, message: "\(error)")
        }
    }
}
