import WeftCore

/// Who is asking for config: a proxy's identity and the listeners it wants, decoded from the node metadata
/// that `weft bootstrap envoy` (or `weft proxy`) writes.
public struct ProxyNode: Hashable, Sendable {
    public typealias Inbound = InboundSpec

    public var id: String
    public var namespace: String
    public var labels: [String: String]
    public var outbound: HostPort?
    public var inbound: [Inbound]
    public var addresses: [String]
    /// region/zone/subzone from the node, for locality-aware load balancing.
    public var locality: String?
    /// The node's `user_agent_name` ("weft-proxy", "envoy", or empty) and `client_features`.
    public var userAgent = ""
    public var clientFeatures: Set<String> = []
    /// The service account from the node metadata (Istio's default `default`).
    public var serviceAccount = "default"
    /// The proxy's admin address, where its metrics are scraped (not part of what it is sent).
    public var admin: HostPort?

    public var identity: WorkloadIdentity { WorkloadIdentity(namespace: namespace, serviceAccount: serviceAccount) }

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
