import Crypto
import EnvoyAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import ProxyUpstream
import SwiftASN1
import SwiftProtobuf
import WeftCore
import X509
import XDSClient

/// One certificate from the mesh CA: a new key, a CSR, the chain back.
public struct CertificateFetcher: Sendable {
    public let controlPlane: HostPort
    public let namespace: String
    public let serviceAccount: String
    public let nodeID: String

    public init(controlPlane: HostPort, namespace: String, serviceAccount: String, nodeID: String) {
        self.nodeID = nodeID
        self.controlPlane = controlPlane
        self.namespace = namespace
        self.serviceAccount = serviceAccount
    }

    public struct Issued: Sendable {
        public var contexts: MeshTLSContexts
        public var notAfter: Date
        /// Half way from now to expiry, as Istio's agent renews.
        public var renewAt: Date
    }

    public func fetch(group: any EventLoopGroup, now: Date = Date()) async throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateSigningRequest(version: .v1, subject: DistinguishedName(), privateKey: .init(key),
                                                attributes: CertificateSigningRequest.Attributes())
        var request = Istio_V1_Auth_IstioCertificateRequest()
        request.csr = try csr.serializeAsPEM().pemString
        request.metadata = Google_Protobuf_Struct(fields: [
            NodeMetadataKey.namespace: Google_Protobuf_Value(stringValue: namespace),
            NodeMetadataKey.serviceAccount: Google_Protobuf_Value(stringValue: serviceAccount),
            NodeMetadataKey.nodeID: Google_Protobuf_Value(stringValue: nodeID),
        ])
        let transport = try HTTP2ClientTransport.Posix(target: ADSClient.target(controlPlane), transportSecurity: .plaintext,
                                                       eventLoopGroup: group)
        let chain: [String] = try await withGRPCClient(transport: transport) { grpc in
            let client = Istio_V1_Auth_IstioCertificateService.Client(wrapping: grpc)
            var options = CallOptions.defaults
            options.timeout = .seconds(10)
            return try await client.createCertificate(request, options: options).certChain
        }
        // Istio's answer: the leaf first, the root last.
        guard chain.count >= 2 else { throw IdentityError.badChain("expected the certificate and the root, got \(chain.count) entries") }
        let leaf = try Certificate(pemEncoded: chain[0])
        guard leaf.publicKey == Certificate.PublicKey(key.publicKey) else { throw IdentityError.badChain("the certificate is not for this proxy's key") }
        let uri = try leaf.extensions.subjectAlternativeNames?.compactMap { san -> String? in
            if case let .uniformResourceIdentifier(u) = san { return u }
            return nil
        }.first ?? ""
        let contexts = try MeshTLSContexts(identity: uri, serial: leaf.serialNumber.bytes.map { String(format: "%02X", $0) }.joined(),
                                           chainPEM: chain.dropLast().joined(separator: "\n"), keyPEM: key.pemRepresentation,
                                           rootPEM: chain.last!)
        let renewAt = now.addingTimeInterval(max(1, leaf.notValidAfter.timeIntervalSince(now) / 2))
        return Issued(contexts: contexts, notAfter: leaf.notValidAfter, renewAt: renewAt)
    }
}

public enum IdentityError: Error, CustomStringConvertible {
    case badChain(String)

    public var description: String {
        switch self {
        case let .badChain(why): "the control plane's certificate answer is unusable: \(why)"
        }
    }
}
