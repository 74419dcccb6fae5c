import Crypto
import Foundation
import SwiftASN1
import Testing
import WeftCore
import X509
@testable import WeftCA

private let now = Date(timeIntervalSince1970: 1_800_000_000)

private func der(_ c: Certificate) throws -> [UInt8] {
    var s = DER.Serializer()
    try s.serialize(c)
    return s.serializedBytes
}

/// The control plane's own identity, the check of client certificates on the xDS port, and the root fingerprint
/// join tokens carry.
@Suite struct ControlPlaneIdentityTests {
    let ca = MeshCA(authority: try! SigningAuthority.ephemeral(trustDomain: "cluster.local", now: now))

    @Test func noWorkloadGetsTheControlPlanesIdentity() throws {
        let key = P256.Signing.PrivateKey()
        let id = ca.identity(namespace: "istio-system", serviceAccount: SpiffeID.controlPlaneServiceAccount)
        #expect(throws: Diagnostic.self) { try ca.issue(id, publicKey: .init(key.publicKey), now: now) }
        #expect(throws: Diagnostic.self) { try ca.issueWithKey(ca.identity(namespace: "shop", serviceAccount: "weft-control"), now: now) }
        let (cert, _) = try ca.issueControlPlane(namespace: "istio-system", now: now, hosts: ["10.1.2.3", "::1", "cp.example"])
        let leaf = try Certificate(pemEncoded: cert.chainBlocks[0])
        let sans = try #require(try leaf.extensions.subjectAlternativeNames)
        #expect(sans.contains(.uniformResourceIdentifier("spiffe://cluster.local/ns/istio-system/sa/weft-control")))
        #expect(sans.contains(.dnsName("weft-control.istio-system.svc")))
        #expect(sans.contains(.dnsName("cp.example")))
        #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: [10, 1, 2, 3]))))
        #expect(SpiffeID.isControlPlane(uri: "spiffe://cluster.local/ns/istio-system/sa/weft-control"))
        #expect(!SpiffeID.isControlPlane(uri: "spiffe://cluster.local/ns/shop/sa/reviews"))
    }

    @Test func clientCertificatesMustComeFromThisCA() throws {
        let key = P256.Signing.PrivateKey()
        let issued = try ca.issue(ca.identity(namespace: "shop", serviceAccount: "reviews"), publicKey: .init(key.publicKey), now: now)
        let leaf = try Certificate(pemEncoded: issued.chainBlocks[0])
        #expect(try ca.verifyIssued(leafDER: try der(leaf), now: now) == SpiffeID(namespace: "shop", serviceAccount: "reviews"))
        // Past its end, or before its start: refused.
        #expect(throws: Diagnostic.self) { try ca.verifyIssued(leaf, now: issued.notAfter.addingTimeInterval(1)) }
        #expect(throws: Diagnostic.self) { try ca.verifyIssued(leaf, now: now.addingTimeInterval(-3600)) }
        // The same identity from another CA (even one with the same name): refused.
        let other = MeshCA(authority: try SigningAuthority.ephemeral(trustDomain: "cluster.local", now: now))
        let forged = try other.issue(other.identity(namespace: "shop", serviceAccount: "reviews"), publicKey: .init(key.publicKey), now: now)
        #expect(throws: Diagnostic.self) { try ca.verifyIssued(try Certificate(pemEncoded: forged.chainBlocks[0]), now: now) }
        #expect(throws: Diagnostic.self) { try ca.verifyIssued(leafDER: [0x30, 0x00], now: now) }
    }

    @Test func joinTokensCarryTheRootFingerprint() throws {
        let expected = SHA256.hash(data: try der(ca.authority.root)).map { String(format: "%02x", $0) }.joined()
        #expect(ca.rootFingerprint == expected)
        let tokens = TokenAuthority(key: SymmetricKey(size: .bits256))
        let t = try tokens.issue(.join(namespace: "shop", serviceAccount: "reviews", expiresAt: 2_000_000_000, rootFingerprint: ca.rootFingerprint))
        let hint = try #require(JoinTokenHint(token: t))
        #expect(hint.namespace == "shop" && hint.serviceAccount == "reviews" && hint.expiresAt == 2_000_000_000)
        #expect(hint.rootFingerprint == expected)
        #expect(try tokens.verify(t, now: 1).rootFingerprint == expected)
        #expect(JoinTokenHint(token: "nonsense") == nil)
        #expect(JoinTokenHint(token: "weft.!!.x") == nil)
    }
}
