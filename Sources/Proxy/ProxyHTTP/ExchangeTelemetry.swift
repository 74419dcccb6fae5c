import NIOCore
import NIOHTTP1
import ProxyConfig
import WeftCore

/// What one request's standard metrics need, gathered as it runs (small: no allocation until it is recorded).
struct StreamTelemetry {
    var recorded = false
    /// The status sent to the caller; 0 while none was.
    var responseCode = 0
    /// Envoy's response flag for how the request ended (`-` when nothing went wrong).
    var flags = "-"
    var requestBytes = 0
    var responseBytes = 0
    var grpcStatus = ""
    /// The answering sidecar's `x-weft-peer-metadata` (outbound requests).
    var upstreamPeer: String?
    /// Body bytes sent to the caller (Envoy's BYTES_SENT).
    var responseBody = 0
    /// The response came from the upstream (not a local reply).
    var fromUpstream = false
    /// The upstream's response headers, kept when the listener writes access logs.
    var responseHeaders: HTTPHeaders?
}

extension Exchange {
    /// Records the request in Istio's standard metrics, once, when it ends; nothing when the listener has no
    /// telemetry. Labels as Istio's: the reporter is the listener's side; the peer comes from the
    /// `x-weft-peer-metadata` header (the caller's on a request, the callee's on a response), its principal from
    /// the mTLS certificate where there is one.
    func recordTelemetry() {
        let origin = downstream.origin
        guard !telemetry.recorded, let t = origin.telemetry else { return }
        telemetry.recorded = true
        if let tracing = t.tracing { endTrace(tracing, reporter: t.reporter) }
        if !t.accessLogs.isEmpty { writeAccessLogs(t.accessLogs) }
        guard t.standardMetrics else { return }
        let standard = worker.standard
        let unknown = PeerMetadata.unknown
        var source: PeerMetadata, destination: PeerMetadata, policy: String
        switch t.reporter {
        case .destination:
            source = head.headers.first(name: PeerMetadata.header).map { standard.peer(headerValue: $0) } ?? PeerMetadata()
            let certified = origin.connection.peer?.uriSANs.first
            source.principal = certified ?? unknown
            if source.namespace == unknown, let p = certified, let ns = PeerMetadata.namespace(ofPrincipal: p) { source.namespace = ns }
            destination = t.own
            if certified == nil { destination.principal = unknown }
            policy = certified == nil ? "none" : "mutual_tls"
        case .source:
            source = t.own
            destination = telemetry.upstreamPeer.map { standard.peer(headerValue: $0) } ?? PeerMetadata()
            if cluster?.meshTLS == nil || destination.principal == unknown {
                source.principal = unknown
                destination.principal = unknown
            }
            policy = unknown
        }
        let grpc = head.headers.first(name: "content-type")?.hasPrefix("application/grpc") == true
        let key = StandardMetrics.RequestKey(
            reporter: t.reporter, source: source, destination: destination, service: destinationService(),
            requestProtocol: grpc ? "grpc" : "http", responseCode: telemetry.responseCode, grpcStatus: telemetry.grpcStatus,
            responseFlags: telemetry.flags, securityPolicy: policy)
        let ms = Double((NIODeadline.now() - started).nanoseconds) / 1_000_000
        standard.record(key, durationMs: ms, requestBytes: HeaderRules.size(head) + telemetry.requestBytes,
                        responseBytes: telemetry.responseBytes)
    }

    /// The service the request was for: the picked cluster's (or, answered before a cluster was picked, the
    /// route's first cluster's), the one whose host the authority names when it reaches several; else the
    /// authority itself.
    func destinationService() -> ServiceRef {
        var services = cluster?.services ?? []
        if services.isEmpty, case let .forward(f)? = route?.action, let first = f.clusters.first {
            services = snapshot.clusters[first.name]?.services ?? []
        }
        guard let first = services.first else { return ServiceRef.authority(filterRequest.authority) }
        if services.count == 1 { return first }
        let host = ServiceRef.authority(filterRequest.authority).host
        return services.first { $0.host == host } ?? first
    }

    /// The response head as it came from upstream: status, the callee's metadata, a trailers-only gRPC status.
    func noteResponse(_ h: HTTPResponseHead) {
        telemetry.responseCode = Int(h.status.code)
        telemetry.upstreamPeer = h.headers.first(name: PeerMetadata.header)
        telemetry.fromUpstream = true
        if downstream.origin.telemetry?.accessLogs.isEmpty == false { telemetry.responseHeaders = h.headers }
        if let g = h.headers.first(name: "grpc-status") { telemetry.grpcStatus = g }
        for (name, value) in h.headers { telemetry.responseBytes += name.utf8.count + value.utf8.count }
    }
}
