import EnvoyAPI
import SwiftProtobuf
import WeftModel

/// One proxy's certificate, key and mesh root in PEM, as the CA issued them for its identity.
public struct WorkloadSecrets: Sendable, Equatable {
    public var certificateChainPEM: String
    public var privateKeyPEM: String
    public var rootPEM: String
    /// The SPIFFE ID and serial, for status and logs.
    public var identity: String
    public var serial: String
    /// Seconds since 1970 when the certificate expires, and when to issue the next one (half its lifetime).
    public var expiresAt: Double
    public var renewAt: Double

    public init(certificateChainPEM: String, privateKeyPEM: String, rootPEM: String, identity: String, serial: String,
                expiresAt: Double, renewAt: Double) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.rootPEM = rootPEM
        self.identity = identity
        self.serial = serial
        self.expiresAt = expiresAt
        self.renewAt = renewAt
    }

    /// Envoy's SDS resources: the workload certificate as `default` and the root as `ROOTCA` (Istio's names).
    var envoySecrets: [(String, any SwiftProtobuf.Message)] {
        var cert = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        cert.name = MeshTLSName.certificateSecret
        var tc = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
        tc.certificateChain.inlineString = certificateChainPEM
        tc.privateKey.inlineString = privateKeyPEM
        cert.tlsCertificate = tc
        var root = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        root.name = MeshTLSName.rootSecret
        var vc = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
        vc.trustedCa.inlineString = rootPEM
        root.validationContext = vc
        return [(cert.name, cert), (root.name, root)]
    }
}

/// Issues a proxy's secrets for the identity its stream has; the control plane implements it with its CA. The
/// stream asks again at `renewAt`, so certificates rotate while the stream lives.
public protocol SecretSource: Sendable {
    /// nil when this proxy gets no secrets (it does not take mesh mTLS); throws when issuing fails.
    func secrets(for node: ProxyNode) throws -> WorkloadSecrets?
}
