import Crypto
import Foundation
import SwiftASN1
import WeftCore
import X509

/// What signs workload certificates: the signing certificate and its key, the certificates between it and the
/// root, and the root that every proxy trusts. Checked when loaded, so a bad CA never starts signing.
public struct SigningAuthority: Sendable {
    public let certificate: Certificate
    let key: Certificate.PrivateKey
    /// From the signing certificate up to, not including, the root (empty when the root signs).
    public let intermediates: [Certificate]
    public let root: Certificate
    /// Where it came from, for logs and `weft status`.
    public let origin: String

    /// The Istio `cacerts` layout: `ca-cert.pem` (signing certificate), `ca-key.pem`, `root-cert.pem` and
    /// `cert-chain.pem` (from `ca-cert.pem` up to the root; may be left out when the root signs directly).
    public static let caCertFile = "ca-cert.pem", caKeyFile = "ca-key.pem", rootCertFile = "root-cert.pem", chainFile = "cert-chain.pem"

    /// The user's own CA from `dir`, checked: PEM parses, key matches certificate, both CA certificates are
    /// valid at `now` and marked as CAs, and the chain links the signing certificate to the root.
    public static func load(cacerts dir: String, now: Date) throws -> SigningAuthority {
        func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        let cert = try single(path(caCertFile))
        let key = try PEMFiles.privateKey(path(caKeyFile))
        let root = try single(path(rootCertFile))
        var chain: [Certificate] = []
        if FileManager.default.fileExists(atPath: path(chainFile)) {
            chain = try PEMFiles.certificates(path(chainFile))
            if chain.first != cert {
                throw Diagnostic(file: path(chainFile), message: "the chain must start with the certificate in \(caCertFile)")
            }
        } else {
            chain = [cert]
        }
        if chain.last == root { chain.removeLast() }
        let authority = SigningAuthority(certificate: cert, key: key, intermediates: chain, root: root, origin: dir)
        try authority.check(now: now, files: (path(caCertFile), path(caKeyFile), path(rootCertFile), path(chainFile)))
        return authority
    }

    /// The root Weft keeps in `dir` (`root-cert.pem`, `root-key.pem` 0600), made on first use.
    public static func loadOrCreate(dir: String, trustDomain: String, now: Date) throws -> SigningAuthority {
        let certPath = (dir as NSString).appendingPathComponent("root-cert.pem")
        let keyPath = (dir as NSString).appendingPathComponent("root-key.pem")
        let fm = FileManager.default
        if fm.fileExists(atPath: certPath) || fm.fileExists(atPath: keyPath) {
            let cert = try single(certPath)
            let key = try PEMFiles.privateKey(keyPath)
            let a = SigningAuthority(certificate: cert, key: key, intermediates: [], root: cert, origin: dir)
            try a.check(now: now, files: (certPath, keyPath, certPath, certPath))
            return a
        }
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = P256.Signing.PrivateKey()
        let root = try makeRoot(key: Certificate.PrivateKey(key), trustDomain: trustDomain, now: now)
        // The key first: a root certificate without its key on disk would be unusable after a crash.
        try PEMFiles.write(key.pemRepresentation, to: keyPath, mode: 0o600)
        try PEMFiles.write(PEMFiles.pem([root]), to: certPath, mode: 0o644)
        return SigningAuthority(certificate: root, key: Certificate.PrivateKey(key), intermediates: [], root: root, origin: dir)
    }

    /// A self-signed ECDSA P-256 root, valid ten years from an hour before `now`.
    static func makeRoot(key: Certificate.PrivateKey, trustDomain: String, now: Date) throws -> Certificate {
        let name = try DistinguishedName {
            OrganizationName(trustDomain)
            CommonName("Weft mesh root CA")
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        return try Certificate(version: .v3, serialNumber: .init(), publicKey: key.publicKey,
                               notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
                               issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                               issuerPrivateKey: key)
    }

    static func single(_ path: String) throws -> Certificate {
        let certs = try PEMFiles.certificates(path)
        guard certs.count == 1 else { throw Diagnostic(file: path, message: "expected one certificate, found \(certs.count)") }
        return certs[0]
    }

    func check(now: Date, files: (cert: String, key: String, root: String, chain: String)) throws {
        guard certificate.publicKey == key.publicKey else {
            throw Diagnostic(file: files.key, message: "the private key does not match the certificate in \(files.cert)")
        }
        for (c, file) in [(certificate, files.cert), (root, files.root)] {
            guard now >= c.notValidBefore else { throw Diagnostic(file: file, message: "the certificate is not valid yet (from \(c.notValidBefore))") }
            guard now <= c.notValidAfter else { throw Diagnostic(file: file, message: "the certificate expired on \(c.notValidAfter)") }
            guard case .isCertificateAuthority = try c.extensions.basicConstraints else {
                throw Diagnostic(file: file, message: "the certificate is not a CA (basicConstraints CA:TRUE is missing)")
            }
        }
        // Each certificate is signed by the next; the last by the root.
        let links = intermediates + [root]
        for i in 0..<intermediates.count {
            guard links[i + 1].publicKey.isValidSignature(links[i].signature, for: links[i]) else {
                throw Diagnostic(file: files.chain, message: "certificate \(i + 1) of the chain is not signed by the next one (or by the root in \(files.root))")
            }
        }
        if intermediates.isEmpty && certificate != root {
            throw Diagnostic(file: files.cert, message: "the certificate is not signed by the root in \(files.root)")
        }
        guard root.publicKey.isValidSignature(root.signature, for: root) else {
            throw Diagnostic(file: files.root, message: "the root certificate is not self-signed")
        }
    }

    public var rootPEM: String { (try? PEMFiles.pem([root])) ?? "" }
}

extension SigningAuthority {
    /// A root kept only in memory, for a control plane without a data folder.
    public static func ephemeral(trustDomain: String, now: Date) throws -> SigningAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let root = try makeRoot(key: key, trustDomain: trustDomain, now: now)
        return SigningAuthority(certificate: root, key: key, intermediates: [], root: root, origin: "memory")
    }
}
