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
    public let link: ControlPlaneLink
    public let namespace: String
    public let serviceAccount: String
    public let nodeID: String

    public init(link: ControlPlaneLink, namespace: String, serviceAccount: String, nodeID: String) {
        self.nodeID = nodeID
        self.link = link
        self.namespace = namespace
        self.serviceAccount = serviceAccount
    }

    public struct Issued: Sendable {
        public var contexts: MeshTLSContexts
        public var chainPEM: String
        public var keyPEM: String
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
        let transport = try HTTP2ClientTransport.Posix(target: ADSClient.target(link.address), transportSecurity: try link.transportSecurity(),
                                                       eventLoopGroup: group)
        let chain: [String] = try await withGRPCClient(transport: transport) { grpc in
            let client = Istio_V1_Auth_IstioCertificateService.Client(wrapping: grpc)
            var options = CallOptions.defaults
            options.timeout = .seconds(10)
            return try await client.createCertificate(request, metadata: link.metadata(), options: options).certChain
        }
        // Istio's answer: the leaf first, the root last; the root must be the one the proxy trusts.
        guard chain.count >= 2 else { throw IdentityError.badChain("expected the certificate and the root, got \(chain.count) entries") }
        try checkRoot(chain.last!)
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
        return Issued(contexts: contexts, chainPEM: chain.dropLast().joined(separator: "\n"), keyPEM: key.pemRepresentation,
                      notAfter: leaf.notValidAfter, renewAt: renewAt)
    }

    func checkRoot(_ pem: String) throws {
        guard let anchor = link.anchor else { return }
        var der = DER.Serializer()
        try der.serialize(try Certificate(pemEncoded: pem))
        guard ControlPlaneVerifier.isRoot(der: der.serializedBytes, anchor) else {
            throw IdentityError.badChain("the root is not the one the proxy trusts (--ca-cert, or the token's fingerprint)")
        }
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
