import NIOCore
import ProxyConfig

/// One worker's finished spans, by tracing config, handed to the exporter every second or at 256 spans: one
/// hand-over per batch, none per request.
final class SpanBuffer {
    let loop: any EventLoop
    let exporter: (any SpanExporter)?
    private var batches: [[UInt8]: (config: TracingConfig, spans: [FinishedSpan])] = [:]
    private var count = 0
    private var flushScheduled = false
    static let flushInterval = TimeAmount.seconds(1)
    static let flushAt = 256
    /// The endpoints of a cluster in the worker's current snapshot (the collector's address).
    var endpoints: (String) -> [EndpointConfig] = { _ in [] }

    init(loop: any EventLoop, exporter: (any SpanExporter)?) {
        self.loop = loop
        self.exporter = exporter
    }

    func add(_ span: FinishedSpan, _ config: TracingConfig) {
        guard exporter != nil else { return }
        batches[config.source, default: (config, [])].spans.append(span)
        count += 1
        if count >= Self.flushAt { return flush() }
        if !flushScheduled {
            flushScheduled = true
            loop.scheduleTask(in: Self.flushInterval) { [self] in flush() }
        }
    }

    func flush() {
        flushScheduled = false
        count = 0
        guard let exporter else { return }
        let all = batches
        batches = [:]
        for (_, b) in all where !b.spans.isEmpty {
            exporter.export(b.spans, tracing: b.config, collector: endpoints(b.config.cluster))
        }
    }
}
