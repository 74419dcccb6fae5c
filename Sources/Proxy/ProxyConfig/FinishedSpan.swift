/// One hop's span, recorded when its request ends and handed to the exporter in batches: Envoy's span for a
/// sidecar (client kind on outbound listeners, server kind on inbound ones), with its attributes.
public struct FinishedSpan: Sendable {
    public enum Kind: Sendable { case server, client }

    public var traceHigh: UInt64
    public var traceLow: UInt64
    public var spanID: UInt64
    public var parentSpanID: UInt64?
    public var traceState: String?
    public var name: String
    public var kind: Kind
    public var startNanos: UInt64
    public var endNanos: UInt64
    public var attributes: [(String, String)]
    public var error: Bool

    public init(traceHigh: UInt64, traceLow: UInt64, spanID: UInt64, parentSpanID: UInt64?, traceState: String?, name: String,
                kind: Kind, startNanos: UInt64, endNanos: UInt64, attributes: [(String, String)], error: Bool) {
        self.traceHigh = traceHigh
        self.traceLow = traceLow
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.traceState = traceState
        self.name = name
        self.kind = kind
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.attributes = attributes
        self.error = error
    }
}

/// Where a worker's finished spans go, a batch at a time (off the request path): the OTLP exporter of
/// `weft proxy`, or nothing.
public protocol SpanExporter: Sendable {
    /// `collector` is the tracing config's cluster's endpoints when the batch left the worker.
    func export(_ spans: [FinishedSpan], tracing: TracingConfig, collector: [EndpointConfig])
}
