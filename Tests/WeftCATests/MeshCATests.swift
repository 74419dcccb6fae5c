import Crypto
import Foundation
import SwiftASN1
import Testing
import WeftCore
import X509
@testable import WeftCA

private let now = Date(timeIntervalSince1970: 1_800_000_000)

private func tempDir() -> String {
    let d = NSTemporaryDirectory() + "weft-ca-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

private func write(_ text: String, _ dir: String, _ name: String) {
    FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8))
}

private func pem(_ c: Certificate) -> String { try! c.serializeAsPEM().pemString + "\n" }

/// A CA certificate for `key`, signed by `issuerKey` under `issuer` (self-signed when they are the same).
private func caCert(key: P256.Signing.PrivateKey, name: String, issuer: (Certificate.PrivateKey, DistinguishedName)? = nil,
                    from: Date = now.addingTimeInterval(-3600), to: Date = now.addingTimeInterval(86400 * 30)) throws -> Certificate {
    let subject = try DistinguishedName { CommonName(name) }
    let k = Certificate.PrivateKey(key)
    return try Certificate(version: .v3, serialNumber: .init(), publicKey: k.publicKey, notValidBefore: from, notValidAfter: to,
                           issuer: issuer?.1 ?? subject, subject: subject,
                           extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
                           issuerPrivateKey: issuer?.0 ?? k)
}

@Suite struct MeshCATests {
    @Test func createsRootOnceAndKeepsIt() throws {
        let dir = tempDir() + "/ca"
        let a = try SigningAuthority.loadOrCreate(dir: dir, trustDomain: "cluster.local", now: now)
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/root-key.pem")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let b = try SigningAuthority.loadOrCreate(dir: dir, trustDomain: "cluster.local", now: now.addingTimeInterval(60))
        #expect(a.root == b.root)
        #expect(a.root.publicKey == b.certificate.publicKey)
    }

    @Test func issuesSpiffeCertificateSignedByRoot() throws {
        let ca = MeshCA(authority: try SigningAuthority.ephemeral(trustDomain: "example.org", now: now), trustDomain: "example.org",
                        ttl: .seconds(3600))
        let id = ca.identity(namespace: "shop", serviceAccount: "reviews")
        let (issued, keyPEM) = try ca.issueWithKey(id, now: now)
        let leaf = try Certificate(pemEncoded: try #require(try FileHelpers.blocks(issued.chainPEM).first))
        #expect(try leaf.extensions.subjectAlternativeNames?.map { $0 } == [.uniformResourceIdentifier("spiffe://example.org/ns/shop/sa/reviews")])
        #expect(ca.authority.root.publicKey.isValidSignature(leaf.signature, for: leaf))
        #expect(leaf.notValidAfter == now.addingTimeInterval(3600))
        #expect(issued.renewAt == now.addingTimeInterval(1800))
        let key = try Certificate.PrivateKey(pemEncoded: keyPEM)
        #expect(key.publicKey == leaf.publicKey)
        guard case .notCertificateAuthority = try leaf.extensions.basicConstraints else { Issue.record("leaf is a CA"); return }
    }

    @Test func signsCSROnlyForTheCredentialsIdentity() throws {
        let ca = MeshCA(authority: try SigningAuthority.ephemeral(trustDomain: "cluster.local", now: now))
        let key = P256.Signing.PrivateKey()
        let mine = ca.identity(namespace: "shop", serviceAccount: "reviews")
        func csr(_ uri: String) throws -> String {
            let ext = try Certificate.Extensions { SubjectAlternativeNames([.uniformResourceIdentifier(uri)]) }
            let attrs = try CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: ext))])
            return try CertificateSigningRequest(version: .v1, subject: DistinguishedName(), privateKey: .init(key), attributes: attrs)
                .serializeAsPEM().pemString
        }
        let ok = try ca.sign(csrPEM: try csr(mine.uri), as: mine, now: now)
        #expect(ok.identity == mine)
        #expect(throws: Diagnostic.self) { try ca.sign(csrPEM: try csr("spiffe://cluster.local/ns/shop/sa/admin"), as: mine, now: now) }
        #expect(throws: Diagnostic.self) { try ca.sign(csrPEM: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", as: mine, now: now) }
    }

    @Test func loadsIstioCacertsWithIntermediate() throws {
        let rootKey = P256.Signing.PrivateKey(), interKey = P256.Signing.PrivateKey()
        let root = try caCert(key: rootKey, name: "root")
        let inter = try caCert(key: interKey, name: "intermediate", issuer: (.init(rootKey), root.subject))
        let dir = tempDir()
        write(pem(inter), dir, "ca-cert.pem")
        write(interKey.pemRepresentation, dir, "ca-key.pem")
        write(pem(root), dir, "root-cert.pem")
        write(pem(inter) + pem(root), dir, "cert-chain.pem")
        let ca = MeshCA(authority: try SigningAuthority.load(cacerts: dir, now: now))
        let issued = try ca.issue(ca.identity(namespace: "a", serviceAccount: "b"), publicKey: .init(P256.Signing.PrivateKey().publicKey), now: now)
        let chain = try FileHelpers.blocks(issued.chainPEM).map { try Certificate(pemEncoded: $0) }
        #expect(chain.count == 2)
        #expect(chain[1] == inter)
        #expect(inter.publicKey.isValidSignature(chain[0].signature, for: chain[0]))
    }

    @Test func refusesBadCAFilesNamingTheFile() throws {
        let rootKey = P256.Signing.PrivateKey()
        let root = try caCert(key: rootKey, name: "root")
        func dir(cert: String, key: String, root r: String) -> String {
            let d = tempDir()
            write(cert, d, "ca-cert.pem"); write(key, d, "ca-key.pem"); write(r, d, "root-cert.pem")
            return d
        }
        func problem(_ d: String) -> String {
            do { _ = try SigningAuthority.load(cacerts: d, now: now); return "" } catch { return "\(error)" }
        }
        // A key that is not the certificate's.
        #expect(problem(dir(cert: pem(root), key: P256.Signing.PrivateKey().pemRepresentation, root: pem(root))).contains("ca-key.pem: the private key does not match"))
        // Malformed PEM.
        #expect(problem(dir(cert: "-----BEGIN CERTIFICATE-----\nnot base64\n", key: rootKey.pemRepresentation, root: pem(root))).contains("ca-cert.pem: malformed PEM"))
        // Expired, and not yet valid.
        let old = try caCert(key: rootKey, name: "old", from: now.addingTimeInterval(-7200), to: now.addingTimeInterval(-3600))
        #expect(problem(dir(cert: pem(old), key: rootKey.pemRepresentation, root: pem(old))).contains("expired"))
        let future = try caCert(key: rootKey, name: "future", from: now.addingTimeInterval(3600), to: now.addingTimeInterval(7200))
        #expect(problem(dir(cert: pem(future), key: rootKey.pemRepresentation, root: pem(future))).contains("not valid yet"))
        // Signed by another root.
        let otherKey = P256.Signing.PrivateKey()
        let other = try caCert(key: otherKey, name: "other")
        let inter = try caCert(key: rootKey, name: "inter", issuer: (.init(otherKey), other.subject))
        #expect(problem(dir(cert: pem(inter), key: rootKey.pemRepresentation, root: pem(root))).contains("not signed by"))
        // A missing file.
        #expect(problem(tempDir()).contains("ca-cert.pem: cannot read"))
    }
}

enum FileHelpers {
    static func blocks(_ pem: String) throws -> [String] { try PEMFiles.pemBlocks(pem, file: "chain") }
}
