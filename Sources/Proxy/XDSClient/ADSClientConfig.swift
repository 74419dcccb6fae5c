import EnvoyAPI
import SwiftProtobuf
import WeftCore

/// Who the proxy is and where its control plane is; sent as the xDS node, as `weft bootstrap envoy` writes it.
public struct ADSClientConfig: Sendable {
    /// The control plane's ADS address (`weft control --xds`).
    public var controlPlane: HostPort
    public var nodeID: String
    public var cluster: String
    public var namespace: String
    public var labels: [String: String]
    /// The explicit-proxy listener address, if the proxy serves outbound traffic.
    public var outbound: HostPort?
    /// Inbound specs, `LISTEN=APP` or `LISTEN=APP=tcp` (sent as one comma list).
    public var inbound: [String]
    public var instanceIPs: [String]
    /// region/zone/subzone.
    public var locality: String?
    public var serviceAccount: String
    /// The admin address (metrics), for the control plane's Prometheus service discovery.
    public var admin: HostPort?
    /// Features beyond `WeftClientFeature.all` this proxy has now (mesh mTLS once it holds a certificate).
    public var extraFeatures: [String] = []
    /// Reconnect backoff: doubles from `initialBackoff` up to `maxBackoff`, with jitter.
    public var initialBackoff: Duration
    public var maxBackoff: Duration

    public init(controlPlane: HostPort, nodeID: String, cluster: String = "weft-proxy", namespace: String = "default",
                labels: [String: String] = [:], outbound: HostPort? = nil, inbound: [String] = [], instanceIPs: [String] = [], locality: String? = nil,
                serviceAccount: String = "default", initialBackoff: Duration = .milliseconds(250), maxBackoff: Duration = .seconds(2)) {
        self.controlPlane = controlPlane
        self.nodeID = nodeID
        self.cluster = cluster
        self.namespace = namespace
        self.labels = labels
        self.outbound = outbound
        self.inbound = inbound
        self.instanceIPs = instanceIPs
        self.locality = locality
        self.serviceAccount = serviceAccount
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// The xDS node with Weft's metadata keys (see NodeMetadataKey).
    public var node: Envoy_Config_Core_V3_Node {
        var meta = Google_Protobuf_Struct()
        meta.fields[NodeMetadataKey.namespace] = Google_Protobuf_Value(stringValue: namespace)
        var labelStruct = Google_Protobuf_Struct()
        for (k, v) in labels { labelStruct.fields[k] = Google_Protobuf_Value(stringValue: v) }
        meta.fields[NodeMetadataKey.labels] = Google_Protobuf_Value(structValue: labelStruct)
        meta.fields[NodeMetadataKey.instanceIPs] = Google_Protobuf_Value(stringValue: instanceIPs.joined(separator: ","))
        meta.fields[NodeMetadataKey.serviceAccount] = Google_Protobuf_Value(stringValue: serviceAccount)
        if let outbound { meta.fields[NodeMetadataKey.outbound] = Google_Protobuf_Value(stringValue: outbound.description) }
        if !inbound.isEmpty { meta.fields[NodeMetadataKey.inbound] = Google_Protobuf_Value(stringValue: inbound.joined(separator: ",")) }
        if let admin { meta.fields[NodeMetadataKey.admin] = Google_Protobuf_Value(stringValue: admin.description) }
        var n = Envoy_Config_Core_V3_Node()
        n.id = nodeID
        n.cluster = cluster
        n.metadata = meta
        n.userAgentName = WeftClientFeature.userAgent
        n.clientFeatures = WeftClientFeature.all + extraFeatures
        if let locality { n.locality = Envoy_Config_Core_V3_Locality(path: locality) }
        return n
    }
}

/// The xDS connection as the proxy's admin page shows it.
public struct ADSClientStatus: Sendable, Equatable {
    /// True while a stream is open and has delivered at least one response.
    public var connected = false
    /// The last refusal (NACK text), cleared when a later response of the same type is accepted.
    public var lastNACK: String?
    /// The type URL of the refused response behind `lastNACK`.
    public var lastNACKTypeURL: String?
    /// The last connection or stream error.
    public var lastError: String?
    /// Accepted versions by type URL.
    public var versions: [String: String] = [:]

    public init() {}
}
