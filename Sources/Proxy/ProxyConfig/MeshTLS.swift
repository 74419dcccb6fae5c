/// Mutual TLS between sidecars as weft proxy runs it, converted from Envoy's TLS contexts whose certificate and
/// root are the SDS secrets `default` and `ROOTCA`: weft proxy holds those itself (its own key, a certificate
/// from the mesh CA for it), so no key ever travels in xDS.

/// An inbound listener that takes mTLS (Istio's PeerAuthentication STRICT, or PERMISSIVE with plaintext too).
public struct DownstreamMeshTLS: Sendable, Equatable {
    /// Plaintext callers are served too (a second filter chain for `raw_buffer`).
    public var permissive: Bool
    /// ALPN offered to TLS callers (`h2`, `http/1.1` for HTTP; none for TCP).
    public var alpn: [String]
    /// Over mTLS the request carries `x-forwarded-client-cert` with the caller's SPIFFE ID (Envoy's SANITIZE_SET
    /// with `uri`); otherwise any such header is removed (Envoy's SANITIZE).
    public var forwardClientCert: Bool

    public init(permissive: Bool, alpn: [String], forwardClientCert: Bool) {
        self.permissive = permissive
        self.alpn = alpn
        self.forwardClientCert = forwardClientCert
    }
}

/// mTLS to a cluster's endpoints: always (DestinationRule ISTIO_MUTUAL) or only to endpoints marked as having a
/// sidecar (auto mTLS), accepting only the service's identities.
public struct UpstreamMeshTLS: Sendable, Equatable {
    /// SPIFFE IDs the server's certificate may carry (empty: any certificate from the mesh root).
    public var identities: [String]
    public var alpn: [String]
    public var sni: String
    /// Auto mTLS: only endpoints with `tlsMode: istio` metadata; the others get plaintext.
    public var onlyMarkedEndpoints: Bool
    /// TLS with the user's own files instead of the mesh identity (DestinationRule SIMPLE / MUTUAL, for services
    /// outside the mesh); nil: the mesh identity.
    public var files: UpstreamTLSFiles?

    public init(identities: [String], alpn: [String], sni: String, onlyMarkedEndpoints: Bool, files: UpstreamTLSFiles? = nil) {
        self.identities = identities
        self.alpn = alpn
        self.sni = sni
        self.onlyMarkedEndpoints = onlyMarkedEndpoints
        self.files = files
    }
}

/// DestinationRule `tls` SIMPLE / MUTUAL as Envoy gets it: the CA to check the server by (none: not checked, as
/// an UpstreamTlsContext without a validation context) and, for MUTUAL, the client certificate and key.
public struct UpstreamTLSFiles: Sendable, Hashable {
    public var caCertificates: String?
    public var certificateChain: String?
    public var privateKey: String?

    public init(caCertificates: String?, certificateChain: String?, privateKey: String?) {
        self.caCertificates = caCertificates
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

extension ClusterConfig {
    /// The mTLS settings for a connection to `endpoint`, or nil for plaintext.
    public func meshTLS(for endpoint: EndpointConfig) -> UpstreamMeshTLS? { meshTLS(marked: endpoint.meshTLS) }

    /// The same, for an endpoint whose `meshTLS` mark is `marked`.
    public func meshTLS(marked: Bool) -> UpstreamMeshTLS? {
        guard let tls = meshTLS, !tls.onlyMarkedEndpoints || marked else { return nil }
        return tls
    }
}
