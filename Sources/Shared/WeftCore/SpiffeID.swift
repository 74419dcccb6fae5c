/// A workload identity as SPIFFE writes it, `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`: the
/// URI SAN of every workload certificate the mesh CA issues, and (without the scheme) the principal that Istio's
/// AuthorizationPolicy names.
public struct SpiffeID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var trustDomain: String
    public var namespace: String
    public var serviceAccount: String

    public static let defaultTrustDomain = "cluster.local"
    /// The URI scheme, which Istio's principals leave out.
    public static let scheme = "spiffe://"
    /// Istio's service account for a workload that names none.
    public static let defaultServiceAccount = "default"

    public init(trustDomain: String = SpiffeID.defaultTrustDomain, namespace: String, serviceAccount: String) {
        self.trustDomain = trustDomain
        self.namespace = namespace
        self.serviceAccount = serviceAccount
    }

    /// Parses `spiffe://td/ns/N/sa/S`; nil for anything else (other path shapes are not workload identities).
    public init?(uri: String) {
        guard uri.hasPrefix("spiffe://") else { return nil }
        let parts = uri.dropFirst("spiffe://".count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[1] == "ns", parts[3] == "sa",
              !parts[0].isEmpty, !parts[2].isEmpty, !parts[4].isEmpty else { return nil }
        self.init(trustDomain: String(parts[0]), namespace: String(parts[2]), serviceAccount: String(parts[4]))
    }

    public var uri: String { "spiffe://\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)" }
    /// The principal as Istio writes it in AuthorizationPolicy: the URI without `spiffe://`.
    public var principal: String { "\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)" }
    public var description: String { uri }

    public static func < (a: SpiffeID, b: SpiffeID) -> Bool { a.uri < b.uri }

    /// Whether `name` can be a trust domain: a DNS-like name of lower-case letters, digits, dots, dashes and
    /// underscores (SPIFFE's rule), at most 255 characters.
    public static func isValidTrustDomain(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 255 && name.allSatisfy { c in
            c.isASCII && (c.isLowercase || c.isNumber || c == "." || c == "-" || c == "_")
        }
    }
}

extension SpiffeID {
    /// The service account of `weft control`'s own identity (its xDS serving certificate), reserved: no workload
    /// gets a certificate for it, so a proxy can tell the control plane from a workload by this name.
    public static let controlPlaneServiceAccount = "weft-control"

    /// Whether `uri` is a control plane's identity (`spiffe://<td>/ns/<ns>/sa/weft-control`).
    public static func isControlPlane(uri: String) -> Bool {
        SpiffeID(uri: uri)?.serviceAccount == controlPlaneServiceAccount
    }
}
