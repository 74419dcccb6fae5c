/// How an HTTP listener traces (Envoy's OpenTelemetry tracer config): the collector reached through a cluster of
/// the snapshot, OTLP over gRPC or HTTP/protobuf, the service name on spans, the share of requests traced when no
/// caller decided, and custom tags. Compiled once when xDS arrives; equal when their xDS source is.
public struct TracingConfig: Sendable, Equatable {
    public enum Export: Sendable, Equatable {
        case grpc
        /// OTLP/HTTP: POST protobuf to this path on the collector.
        case http(path: String, authority: String)
    }

    public enum TagValue: Sendable, Equatable {
        case literal(String)
        case environment(String, defaultValue: String)
        case requestHeader(String, defaultValue: String)
    }

    public var cluster: String
    public var export: Export
    public var serviceName: String
    /// Requests traced per million, when the caller sent no sampling decision.
    public var samplingPerMillion: Int
    /// A caller's sampled flag decides (Envoy's parent-based sampler); else only `samplingPerMillion` does.
    public var honourParent: Bool
    public var customTags: [(tag: String, value: TagValue)]
    public var timeout: Duration
    /// The xDS form it was compiled from.
    public var source: [UInt8]

    public init(cluster: String, export: Export, serviceName: String, samplingPerMillion: Int, honourParent: Bool = true,
                customTags: [(tag: String, value: TagValue)] = [], timeout: Duration = .seconds(3), source: [UInt8] = []) {
        self.cluster = cluster
        self.export = export
        self.serviceName = serviceName
        self.samplingPerMillion = samplingPerMillion
        self.honourParent = honourParent
        self.customTags = customTags
        self.timeout = timeout
        self.source = source
    }

    public static func == (a: Self, b: Self) -> Bool { a.source == b.source }
}
