/// Metadata keys carried in the xDS node, shared by the bootstrap writer, the xDS server and `weft proxy`.
public enum NodeMetadataKey {
    public static let namespace = "NAMESPACE"
    public static let labels = "LABELS"
    public static let outbound = "WEFT_OUTBOUND"
    public static let inbound = "WEFT_INBOUND"
    public static let instanceIPs = "INSTANCE_IPS"
    /// The service account the proxy runs as (Istio's key); the credential, not this claim, decides its identity.
    public static let serviceAccount = "SERVICE_ACCOUNT"
    /// The node id in a certificate request, so the control plane's status shows each proxy's certificate.
    public static let nodeID = "NODE_ID"
    /// The proxy's admin address (`host:port`), where Prometheus scrapes `/stats/prometheus`; weft control lists
    /// it in its Prometheus service discovery.
    public static let admin = "WEFT_ADMIN"
}
