import Foundation
import NIOSSL
import SwiftASN1
import WeftCore
import X509

/// What a proxy trusts the control plane by: the mesh root from a file (`--ca-cert`), or the root's SHA-256 from
/// its join token, matched against the certificates the control plane presents (so the token is sent only to a
/// server that holds a certificate from that root, as kubeadm's discovery-token-ca-cert-hash).
public enum ControlPlaneAnchor: Sendable, Equatable {
    case root(pem: String)
    case fingerprint(String)
}

/// Checks the xDS server's chain: each certificate signed by the next, ending at the anchored root, valid now,
/// and the leaf is a control plane identity (`.../sa/weft-control`, a name no workload can get). Returns the root.
public enum ControlPlaneVerifier {
    public enum Refusal: Error, CustomStringConvertible {
        case unusable(String)

        public var description: String {
            switch self { case let .unusable(why): "the control plane's certificate is not trusted: \(why)" }
        }
    }

    public static func verify(chainDER: [[UInt8]], anchor: ControlPlaneAnchor, now: Date = Date()) throws -> Certificate {
        let chain = try chainDER.map { der in
            do { return try Certificate(derEncoded: der) } catch { throw Refusal.unusable("not an X.509 certificate") }
        }
        guard let leaf = chain.first else { throw Refusal.unusable("no certificate presented") }
        let root: Certificate
        switch anchor {
        case let .root(pem):
            do { root = try Certificate(pemEncoded: pem) } catch { throw Refusal.unusable("the --ca-cert file is not a PEM certificate") }
        case let .fingerprint(hex):
            guard let found = zip(chain, chainDER).first(where: { isRoot(der: $0.1, anchor) })?.0 else {
                throw Refusal.unusable("no certificate in its chain matches the token's root fingerprint \(hex)")
            }
            root = found
        }
        // Walk up from the leaf until the root signs the current certificate.
        var current = leaf
        var rest = chain.dropFirst()
        while !(current.issuer == root.subject && root.publicKey.isValidSignature(current.signature, for: current)) {
            guard let next = rest.first, current.issuer == next.subject, next.publicKey.isValidSignature(current.signature, for: current),
                  next != root else {
                throw Refusal.unusable("its chain does not lead to the mesh root")
            }
            current = next
            rest = rest.dropFirst()
        }
        guard leaf.notValidBefore <= now, now < leaf.notValidAfter else {
            throw Refusal.unusable("it is not valid now (\(leaf.notValidBefore) to \(leaf.notValidAfter))")
        }
        let uris = leaf.uriSANs
        guard uris.contains(where: SpiffeID.isControlPlane(uri:)) else {
            throw Refusal.unusable("its identity \(uris) is not a control plane's (.../sa/\(SpiffeID.controlPlaneServiceAccount))")
        }
        return root
    }
}

extension ControlPlaneVerifier {
    /// For NIOSSL's custom verification callbacks: whether the chain the server presented checks out.
    public static func accepts(_ certificates: [NIOSSLCertificate], anchor: ControlPlaneAnchor) -> Bool {
        guard let chain = try? certificates.map({ try $0.toDERBytes() }) else { return false }
        return (try? verify(chainDER: chain, anchor: anchor)) != nil
    }
}

extension ControlPlaneVerifier {
    /// Whether the certificate (DER) is the anchored root: the `--ca-cert` file's, or the one whose SHA-256 the
    /// token names.
    public static func isRoot(der: [UInt8], _ anchor: ControlPlaneAnchor) -> Bool {
        switch anchor {
        case let .fingerprint(hex): return SHA256Digest.hex(der) == hex.lowercased()
        case let .root(pem):
            guard let root = try? Certificate(pemEncoded: pem) else { return false }
            var s = DER.Serializer()
            return (try? s.serialize(root)) != nil && s.serializedBytes == der
        }
    }
}

extension Certificate {
    /// The URI SANs (a workload's SPIFFE ID, a control plane's).
    var uriSANs: [String] {
        ((try? extensions.subjectAlternativeNames) ?? nil)?.compactMap { san -> String? in
            if case let .uniformResourceIdentifier(u) = san { return u }
            return nil
        } ?? []
    }
}
