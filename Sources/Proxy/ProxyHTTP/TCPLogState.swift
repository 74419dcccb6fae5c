import NIOCore
import ProxyConfig

/// A TCP connection's access log facts, kept while it is open and written when it closes (Envoy's TCP proxy
/// access log: bytes each way, duration, upstream host and cluster, a response flag when the upstream could not
/// be reached).
struct TCPLogState {
    var startMicros: Int64
    var started: NIODeadline
    var remote: String?
    var local: String?
    var upstreamHost: String?
    var flags = "-"
    var received = 0
    var sent = 0

    func write(_ logs: [AccessLogConfig], cluster: String?, worker: Worker) {
        var e = AccessLogEntry()
        e.startMicros = startMicros
        e.flags = flags
        e.bytesReceived = received
        e.bytesSent = sent
        e.durationMs = Int((NIODeadline.now() - started).nanoseconds / 1_000_000)
        e.upstreamHost = upstreamHost
        e.upstreamCluster = cluster
        e.downstreamRemote = remote
        e.downstreamLocal = local
        for l in logs where l.filter.map({ AccessLogLine.passes($0, e) }) ?? true {
            worker.accessLogs.append(to: l.path) { out, clock in AccessLogLine.write(l.format, e, into: &out, clock: &clock) }
        }
    }
}
