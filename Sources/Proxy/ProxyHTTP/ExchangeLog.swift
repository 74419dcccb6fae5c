import NIOCore
import NIOHTTP1
import ProxyConfig
import ProxyRouting

/// A request's access log lines, written when it ends (with its standard metrics) into the worker's buffers.
extension Exchange {
    func writeAccessLogs(_ logs: [AccessLogConfig]) {
        let origin = downstream.origin
        let elapsed = NIODeadline.now() - started
        var e = AccessLogEntry()
        e.startMicros = AccessLogLine.wallMicros() - elapsed.nanoseconds / 1000
        e.request = LoggedRequest(method: head.method.rawValue, path: filterRequest.uri.isEmpty ? head.uri : filterRequest.uri,
                                  authority: filterRequest.authority, headers: head.headers)
        e.responseHeaders = telemetry.responseHeaders
        e.protocolName = head.version.major == 2 ? "HTTP/2" : head.version.minor == 0 ? "HTTP/1.0" : "HTTP/1.1"
        e.responseCode = telemetry.responseCode
        e.flags = telemetry.flags
        e.details = ExchangeLog.details(flags: telemetry.flags, fromUpstream: telemetry.fromUpstream)
        e.bytesReceived = telemetry.requestBytes
        e.bytesSent = telemetry.responseBody
        e.durationMs = Int(elapsed.nanoseconds / 1_000_000)
        if let ep = endpoint { e.upstreamHost = ExchangeLog.hostPort(ep.host, ep.port) }
        e.upstreamCluster = cluster?.name ?? picked?.name
        e.downstreamLocal = origin.localText
        e.downstreamRemote = origin.remoteText
        e.serverName = origin.connection.serverName.isEmpty ? nil : origin.connection.serverName
        e.routeName = route?.name.isEmpty == false ? route?.name : nil
        e.traceID = traceID
        let writer = worker.accessLogs
        for log in logs where log.filter.map({ AccessLogLine.passes($0, e) }) ?? true {
            writer.append(to: log.path) { out, clock in AccessLogLine.write(log.format, e, into: &out, clock: &clock) }
        }
    }
}

enum ExchangeLog {
    /// Envoy's RESPONSE_CODE_DETAILS for how the request ended.
    static func details(flags: String, fromUpstream: Bool) -> String? {
        if flags == "-" { return fromUpstream ? "via_upstream" : nil }
        return detailsByFlag[flags]
    }

    static let detailsByFlag = ["NR": "route_not_found", "UH": "no_healthy_upstream", "FI": "fault_filter_abort", "RL": "local_rate_limited",
                      "UT": "response_timeout", "UF": "upstream_reset_before_response_started{connection_failure}",
                      "UC": "upstream_reset_after_response_started{connection_termination}", "DC": "downstream_remote_disconnect",
                      "UO": "upstream_reset_before_response_started{overflow}", "URX": "upstream_reset_before_response_started",
                      "SI": "stream_idle_timeout"]

    static func hostPort(_ host: String, _ port: Int) -> String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static func text(_ a: SocketAddress?) -> String? {
        guard let a, let ip = a.ipAddress, let port = a.port else { return nil }
        return hostPort(ip, port)
    }
}
