import WeftCore

/// Who is asking for config: a proxy's identity and the listeners it wants, decoded from the node metadata
/// that `weft bootstrap envoy` (or `weft proxy`) writes.
public struct ProxyNode: Hashable, Sendable {
    public struct Inbound: Hashable, Sendable {
        public var listen: HostPort
        public var app: HostPort
        public var tcp: Bool
        /// The app speaks HTTP/2 (gRPC): the inbound cluster uses HTTP/2 upstream.
        public var http2: Bool

        public init(listen: HostPort, app: HostPort, tcp: Bool = false, http2: Bool = false) {
            self.listen = listen
            self.app = app
            self.tcp = tcp
            self.http2 = http2
        }
    }

    public var id: String
    public var namespace: String
    public var labels: [String: String]
    public var outbound: HostPort?
    public var inbound: [Inbound]
    public var addresses: [String]
    /// region/zone/subzone from the node, for locality-aware load balancing.
    public var locality: String?

    public init(id: String, namespace: String = "default", labels: [String: String] = [:], outbound: HostPort? = nil,
                inbound: [Inbound] = [], addresses: [String] = []) {
        self.id = id
        self.namespace = namespace
        self.labels = labels
        self.outbound = outbound
        self.inbound = inbound
        self.addresses = addresses
    }
}
