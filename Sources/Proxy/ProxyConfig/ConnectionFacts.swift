/// What authorization may know of a downstream connection, found once when the connection is ready (after the
/// TLS handshake on an mTLS listener) and shared by all its requests: the peer's and the local address as
/// network-order bytes, the local port, the server name the caller asked for (SNI) and, over TLS, the identities
/// in the peer's certificate.
public final class ConnectionFacts: Sendable {
    /// The caller's address (Envoy's direct remote address; also its remote address, as weft trusts no
    /// x-forwarded-for): 4 or 16 bytes, nil when the socket has no IP address.
    public let peerAddress: [UInt8]?
    /// The address the connection was accepted on (Envoy's local address).
    public let localAddress: [UInt8]?
    public let localPort: Int
    /// The SNI of a TLS connection; "" for plaintext or a ClientHello without one (Envoy's requestedServerName).
    public let serverName: String
    /// The TLS peer; nil for a plaintext connection.
    public let peer: PeerCertificateFacts?

    public init(peerAddress: [UInt8]? = nil, localAddress: [UInt8]? = nil, localPort: Int = 0, serverName: String = "",
                peer: PeerCertificateFacts? = nil) {
        self.peerAddress = peerAddress
        self.localAddress = localAddress
        self.localPort = localPort
        self.serverName = serverName
        self.peer = peer
    }

    /// A connection nothing is known about (requests built by hand in tests).
    public static let unknown = ConnectionFacts()
}

/// The identities of a TLS peer's certificate, in the order Envoy's `authenticated` principal tries them: URI SANs
/// (a workload's SPIFFE ID), then DNS SANs. Empty when the peer sent no certificate.
public struct PeerCertificateFacts: Sendable, Equatable {
    public var uriSANs: [String]
    public var dnsSANs: [String]

    public init(uriSANs: [String] = [], dnsSANs: [String] = []) {
        self.uriSANs = uriSANs
        self.dnsSANs = dnsSANs
    }
}
