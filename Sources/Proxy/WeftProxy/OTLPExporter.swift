import EnvoyAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ProxyConfig
import ProxyRouting
import SwiftProtobuf
import WeftCore
import WeftHTTPClient
import XDSClient

/// Sends weft proxy's spans to an OpenTelemetry collector with OTLP, over gRPC (`TraceService/Export`) or
/// HTTP/protobuf (POST to the provider's path), one request per batch a worker hands over. A failed export is
/// logged (once a minute at most) and its spans dropped: tracing never holds requests back.
final class OTLPExporter: SpanExporter {
    let logger: Logger
    let group: any EventLoopGroup
    let lastWarning = NIOLockedValueBox<Date?>(nil)

    init(logger: Logger, group: any EventLoopGroup) {
        self.logger = logger
        self.group = group
    }

    func export(_ spans: [FinishedSpan], tracing: TracingConfig, collector: [EndpointConfig]) {
        guard let ep = collector.first else { return warn("no endpoint for tracing cluster '\(tracing.cluster)'") }
        let request = Self.request(spans, serviceName: tracing.serviceName)
        let target = HostPort(host: ep.host, port: ep.port)
        Task { [self] in
            do {
                switch tracing.export {
                case .grpc: try await sendGRPC(request, to: target, timeout: tracing.timeout)
                case let .http(path, authority): try await sendHTTP(request, to: target, path: path, authority: authority, timeout: tracing.timeout)
                }
            } catch {
                warn("exporting \(spans.count) spans to \(target) failed: \(error)")
            }
        }
    }

    func sendGRPC(_ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest, to target: HostPort, timeout: Duration) async throws {
        let transport = try HTTP2ClientTransport.Posix(target: ADSClient.target(target), transportSecurity: .plaintext, eventLoopGroup: group)
        try await withGRPCClient(transport: transport) { grpc in
            let client = Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: grpc)
            var options = CallOptions.defaults
            options.timeout = timeout
            _ = try await client.export(request, options: options)
        }
    }

    func sendHTTP(_ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest, to target: HostPort, path: String,
                  authority: String, timeout: Duration) async throws {
        let body: [UInt8] = try request.serializedBytes()
        let ms = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let response = try await HTTPClient.send("POST", to: target, target: path, host: authority,
                                                 headers: [("content-type", "application/x-protobuf")], bodyBytes: body,
                                                 timeout: .milliseconds(max(1, ms)))
        guard (200..<300).contains(response.status) else { throw HTTPClient.Failure("collector answered \(response.status)") }
    }

    func warn(_ message: String) {
        let now = Date()
        let due = lastWarning.withLockedValue { last -> Bool in
            guard last.map({ now.timeIntervalSince($0) >= 60 }) ?? true else { return false }
            last = now
            return true
        }
        if due { logger.warning("tracing: \(message)") }
    }

    /// OTLP's request: one resource (the proxy's service name) with one scope of spans.
    static func request(_ spans: [FinishedSpan], serviceName: String) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scope.scope.name = "weft-proxy"
        scope.spans = spans.map(span)
        var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        rs.resource.attributes = [keyValue("service.name", serviceName)]
        rs.scopeSpans = [scope]
        var r = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        r.resourceSpans = [rs]
        return r
    }

    static func span(_ s: FinishedSpan) -> Opentelemetry_Proto_Trace_V1_Span {
        var o = Opentelemetry_Proto_Trace_V1_Span()
        o.traceID = bytes(s.traceHigh) + bytes(s.traceLow)
        o.spanID = bytes(s.spanID)
        if let p = s.parentSpanID { o.parentSpanID = bytes(p) }
        if let ts = s.traceState { o.traceState = ts }
        o.flags = 1
        o.name = s.name
        o.kind = s.kind == .server ? .server : .client
        o.startTimeUnixNano = s.startNanos
        o.endTimeUnixNano = max(s.endNanos, s.startNanos)
        o.attributes = s.attributes.map { keyValue($0.0, $0.1) }
        if s.error { o.status.code = .error }
        return o
    }

    static func keyValue(_ k: String, _ v: String) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var kv = Opentelemetry_Proto_Common_V1_KeyValue()
        kv.key = k
        kv.value.stringValue = v
        return kv
    }

    static func bytes(_ v: UInt64) -> Data { withUnsafeBytes(of: v.bigEndian) { Data($0) } }
}
