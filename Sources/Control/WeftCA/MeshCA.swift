import Crypto
import Foundation
import SwiftASN1
import WeftCore
import X509

/// A workload certificate as issued: the chain (leaf first, then the intermediates, not the root) in PEM, and
/// what logs and tests look at.
public struct IssuedCertificate: Sendable {
    public var chainPEM: String
    public var identity: SpiffeID
    /// The serial number in hex, as `openssl x509 -serial` prints it.
    public var serial: String
    /// Backdated a minute before `issuedAt`, for clock skew.
    public var notBefore: Date
    public var notAfter: Date
    public var issuedAt: Date

    /// The chain as one PEM block per certificate (Istio's `cert_chain` list).
    public var chainBlocks: [String] { ((try? PEMFiles.pemBlocks(chainPEM, file: "")) ?? []).map { $0 + "\n" } }

    /// When to renew: half way from issue to expiry, as Istio's agent does.
    public var renewAt: Date { issuedAt.addingTimeInterval(notAfter.timeIntervalSince(issuedAt) / 2) }
}

/// The mesh CA: issues short-lived certificates whose URI SAN is a SPIFFE ID, under a checked SigningAuthority.
public struct MeshCA: Sendable {
    public let authority: SigningAuthority
    public let trustDomain: String
    /// Default certificate lifetime (`--cert-ttl`, 24 h by default).
    public let ttl: Duration

    public static let minimumTTL = Duration.seconds(60)

    public init(authority: SigningAuthority, trustDomain: String = SpiffeID.defaultTrustDomain, ttl: Duration = .seconds(86400)) {
        self.authority = authority
        self.trustDomain = trustDomain
        self.ttl = max(ttl, Self.minimumTTL)
    }

    public var rootPEM: String { authority.rootPEM }

    public func identity(namespace: String, serviceAccount: String) -> SpiffeID {
        SpiffeID(trustDomain: trustDomain, namespace: namespace, serviceAccount: serviceAccount)
    }

    /// A certificate for `publicKey` as `identity` (a workload: never the control plane's reserved identity).
    public func issue(_ identity: SpiffeID, publicKey: Certificate.PublicKey, now: Date) throws -> IssuedCertificate {
        guard identity.serviceAccount != SpiffeID.controlPlaneServiceAccount else {
            throw Diagnostic(path: "serviceAccount", message: "'\(SpiffeID.controlPlaneServiceAccount)' is reserved for the control plane's own identity")
        }
        return try issue(identity, publicKey: publicKey, lifetime: Double(ttl.components.seconds), now: now)
    }

    func issue(_ identity: SpiffeID, publicKey: Certificate.PublicKey, lifetime seconds: Double, now: Date,
               dnsNames: [String] = [], ipAddresses: [[UInt8]] = []) throws -> IssuedCertificate {
        // Backdated a minute for clock skew between hosts (Istio does the same); never past the CA's own end.
        let notBefore = now.addingTimeInterval(-60)
        let notAfter = min(now.addingTimeInterval(seconds), authority.certificate.notValidAfter)
        let signer = authority.certificate
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            if let ski = try signer.extensions.subjectKeyIdentifier {
                AuthorityKeyIdentifier(keyIdentifier: ski.keyIdentifier)
            }
            // The subject is empty, so the SAN is critical (RFC 5280 4.2.1.6), as in Istio's workload certificates.
            Critical(SubjectAlternativeNames([.uniformResourceIdentifier(identity.uri)] + dnsNames.map { .dnsName($0) }
                                              + ipAddresses.map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }))
        }
        let serial = Certificate.SerialNumber()
        let cert = try Certificate(version: .v3, serialNumber: serial, publicKey: publicKey, notValidBefore: notBefore,
                                   notValidAfter: notAfter, issuer: signer.subject, subject: DistinguishedName(),
                                   extensions: extensions,
                                   issuerPrivateKey: authority.key)
        return IssuedCertificate(chainPEM: try PEMFiles.pem([cert] + authority.intermediates), identity: identity,
                                 serial: serial.bytes.map { String(format: "%02X", $0) }.joined(), notBefore: notBefore, notAfter: notAfter, issuedAt: now)
    }

    /// A new ECDSA P-256 key made here and a certificate for it, for a data plane that cannot send a CSR (Envoy
    /// through SDS): the key travels to the proxy inside its authenticated xDS stream.
    public func issueWithKey(_ identity: SpiffeID, now: Date) throws -> (certificate: IssuedCertificate, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let cert = try issue(identity, publicKey: Certificate.PublicKey(key.publicKey), now: now)
        return (cert, key.pemRepresentation)
    }

    /// Signs a PEM CSR for `identity`: the CSR's own signature must verify (the requester holds the key), and any
    /// URI SAN it asks for must be exactly `identity` (the credential decides the identity, not the CSR).
    public func sign(csrPEM: String, as identity: SpiffeID, now: Date) throws -> IssuedCertificate {
        let csr: CertificateSigningRequest
        do { csr = try CertificateSigningRequest(pemEncoded: csrPEM) } catch {
            throw Diagnostic(path: "csr", message: "not a PEM certificate signing request: \(error)")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw Diagnostic(path: "csr", message: "the CSR's signature does not verify with its public key")
        }
        if let ext = try csr.attributes.extensionRequest, let sans = try ext.extensions.subjectAlternativeNames {
            for san in sans {
                guard case let .uniformResourceIdentifier(uri) = san, uri == identity.uri else {
                    throw Diagnostic(path: "csr", message: "the CSR asks for \(san), but the credential is for \(identity.uri)")
                }
            }
        }
        return try issue(identity, publicKey: csr.publicKey, now: now)
    }

    /// The control plane's serving certificate for xDS (`spiffe://<td>/ns/<namespace>/sa/weft-control`, and the
    /// DNS name `weft-control.<namespace>.svc` for gRPC clients that check a host name, as istiod's
    /// `istiod.istio-system.svc`), with a new key; valid for a year (or to the CA's end), made again at each start.
    /// `hosts`: more names and IP addresses it answers at (the API's, for HTTPS clients that check them).
    public func issueControlPlane(namespace: String, now: Date, hosts: [String] = []) throws -> (certificate: IssuedCertificate, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let id = identity(namespace: namespace, serviceAccount: SpiffeID.controlPlaneServiceAccount)
        let ips = hosts.compactMap(IPAddressBytes.parse)
        let names = ["\(SpiffeID.controlPlaneServiceAccount).\(namespace).svc"] + hosts.filter { IPAddressBytes.parse($0) == nil }
        return (try issue(id, publicKey: Certificate.PublicKey(key.publicKey), lifetime: 365 * 86400, now: now,
                          dnsNames: names, ipAddresses: ips), key.pemRepresentation)
    }

    /// SHA-256 of the root certificate's DER, hex: join tokens carry it so a proxy can recognise the mesh root
    /// the control plane presents before it trusts anything (as kubeadm's discovery-token-ca-cert-hash).
    public var rootFingerprint: String { Self.fingerprint(authority.root) }

    public static func fingerprint(_ cert: Certificate) -> String {
        var der = DER.Serializer()
        try? der.serialize(cert)
        return SHA256Digest.hex(der.serializedBytes)
    }

    /// The SPIFFE ID of a client certificate (DER) this CA issued and that is valid at `now`; the TLS handshake
    /// has already proved the peer holds its key. Refused with the reason otherwise.
    public func verifyIssued(leafDER: [UInt8], now: Date) throws -> SpiffeID {
        let leaf: Certificate
        do { leaf = try Certificate(derEncoded: leafDER) } catch { throw Diagnostic(path: "certificate", message: "not an X.509 certificate: \(error)") }
        return try verifyIssued(leaf, now: now)
    }

    public func verifyIssued(_ leaf: Certificate, now: Date) throws -> SpiffeID {
        let signer = authority.certificate
        guard leaf.issuer == signer.subject, signer.publicKey.isValidSignature(leaf.signature, for: leaf) else {
            throw Diagnostic(path: "certificate", message: "the client certificate was not issued by this mesh's CA")
        }
        guard leaf.notValidBefore <= now, now < leaf.notValidAfter else {
            throw Diagnostic(path: "certificate", message: "the client certificate is not valid now (valid \(leaf.notValidBefore) to \(leaf.notValidAfter))")
        }
        let uris = (try? leaf.extensions.subjectAlternativeNames)??.compactMap { san -> String? in
            if case let .uniformResourceIdentifier(u) = san { return u }
            return nil
        } ?? []
        guard let id = uris.compactMap(SpiffeID.init(uri:)).first, id.trustDomain == trustDomain else {
            throw Diagnostic(path: "certificate", message: "the client certificate has no SPIFFE ID of trust domain \(trustDomain)")
        }
        return id
    }
}

/// An IPv4 or IPv6 address as the bytes an X.509 IP SAN holds.
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        let host = text.hasPrefix("[") ? String(text.dropFirst().dropLast()) : text
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
