#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import ProxyConfig
import ProxyRouting

/// This hop's span while its request runs: the trace it continues or starts, its own id, and whether it is
/// sampled (the caller's decision when there was one, else the listener's random sampling).
struct ActiveSpan {
    var context: TraceContext
    var spanID: UInt64
    var sampled: Bool
    var startNanos: UInt64
    /// The caller sent trace headers (they are replaced upstream); else only `traceparent` is added.
    var continued: Bool
}

extension Exchange {
    /// Continues the caller's trace or starts one, as Envoy's tracer does for a traced listener.
    func beginTrace(_ config: TracingConfig) {
        let incoming = ExchangeTracing.hasTraceHeaders(head.headers) ? TraceContext.extract(head.headers) : nil
        let context = incoming ?? TraceContext(traceHigh: worker.random64(), traceLow: worker.random64())
        let parentDecision = config.honourParent ? incoming?.sampled : nil
        let sampled = parentDecision ?? (Int(worker.random64() % 1_000_000) < config.samplingPerMillion)
        span = ActiveSpan(context: context, spanID: worker.random64(), sampled: sampled,
                          startNanos: UInt64(AccessLogLine.wallMicros()) * 1000, continued: incoming != nil)
        traceID = context.traceIDHex
    }

    /// The upstream request carries the trace with this hop's span as its parent.
    func injectTrace(_ h: inout HTTPHeaders) {
        guard let s = span else { return }
        guard s.continued else {
            // No trace headers came in (hasTraceHeaders): nothing to replace.
            h.add(name: "traceparent", value: s.context.traceparent(span: s.spanID, sampled: s.sampled))
            return
        }
        for name in TraceContext.headerNames { h.remove(name: name) }
        for (name, value) in s.context.headers(span: s.spanID, sampled: s.sampled) { h.add(name: name, value: value) }
    }

    /// Hands the finished span to the worker's exporter (sampled spans only).
    func endTrace(_ config: TracingConfig, reporter: ListenerTelemetry.Reporter) {
        guard let s = span, s.sampled else { return }
        let code = telemetry.responseCode
        let authority = filterRequest.authority
        var attributes: [(String, String)] = [
            ("component", "proxy"),
            ("http.method", head.method.rawValue),
            ("http.url", "http://\(authority)\(filterRequest.uri.isEmpty ? head.uri : filterRequest.uri)"),
            ("http.protocol", head.version.major == 2 ? "HTTP/2" : "HTTP/1.1"),
            ("http.status_code", String(code)),
            ("response_flags", telemetry.flags),
            ("request_size", String(telemetry.requestBytes)),
            ("response_size", String(telemetry.responseBody)),
            ("upstream_cluster", cluster?.name ?? picked?.name ?? "-"),
            ("upstream_cluster.name", cluster?.name ?? picked?.name ?? "-"),
        ]
        if let ua = head.headers.first(name: "user-agent") { attributes.append(("user_agent", ua)) }
        if let rid = head.headers.first(name: "x-request-id") { attributes.append(("guid:x-request-id", rid)) }
        if let peer = downstream.origin.sourceAddress.isEmpty ? nil : downstream.origin.sourceAddress { attributes.append(("peer.address", peer)) }
        if let ep = endpoint { attributes.append(("upstream.address", ExchangeLog.hostPort(ep.host, ep.port))) }
        let view = RequestView(method: head.method.rawValue, uri: filterRequest.uri, authority: authority, headers: head.headers)
        for (tag, value) in config.customTags {
            switch value {
            case let .literal(v): attributes.append((tag, v))
            case let .environment(name, d): attributes.append((tag, ExchangeTracing.environment(name) ?? d))
            case let .requestHeader(name, d): attributes.append((tag, view.header(name) ?? d))
            }
        }
        let error = code >= 500 || code == 0
        if error { attributes.append(("error", "true")) }
        let host = authority.isEmpty ? "-" : authority
        worker.spans.add(FinishedSpan(
            traceHigh: s.context.traceHigh, traceLow: s.context.traceLow, spanID: s.spanID, parentSpanID: s.context.parentSpan,
            traceState: s.context.traceState, name: "\(host)/*", kind: reporter == .destination ? .server : .client,
            startNanos: s.startNanos, endNanos: UInt64(AccessLogLine.wallMicros()) * 1000, attributes: attributes, error: error), config)
    }
}

enum ExchangeTracing {
    /// Whether any header is one a trace context travels in: one pass over the names, by length first, so a
    /// request without any pays no lookups.
    static func hasTraceHeaders(_ h: HTTPHeaders) -> Bool {
        for (name, _) in h {
            switch name.utf8.count {
            case 2, 10, 11, 12, 17:
                let lower = name.lowercased()
                if TraceContext.headerNames.contains(lower) { return true }
            default: continue
            }
        }
        return false
    }

    static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }
}
