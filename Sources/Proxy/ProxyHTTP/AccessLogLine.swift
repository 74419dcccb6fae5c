#if canImport(Glibc)
import Glibc
#endif
import NIOHTTP1
import ProxyConfig
import ProxyRouting
import WeftCore

/// What one request (or TCP connection) tells its access log, gathered when it ends.
struct AccessLogEntry {
    /// Wall-clock start, in microseconds since the epoch.
    var startMicros: Int64 = 0
    /// The request's pseudo-headers and headers (nil for TCP), looked up only for the fields the format names.
    var request: LoggedRequest?
    var responseHeaders: (any HeaderLookup)?
    var protocolName: String?
    var responseCode = 0
    var flags = "-"
    var details: String?
    var bytesReceived = 0
    var bytesSent = 0
    var durationMs = 0
    var upstreamHost: String?
    var upstreamCluster: String?
    var downstreamLocal: String?
    var downstreamRemote: String?
    var serverName: String?
    var routeName: String?
    var traceID: String?
    var healthCheck = false
}

/// A request as its log line reads it: the pseudo-headers, and the headers as the codec keeps them (no
/// existential box, no copy).
struct LoggedRequest {
    var method: String
    var path: String
    var authority: String
    var headers: HTTPHeaders

    func header(_ name: String) -> String? {
        switch name {
        case ":method": return method
        case ":path": return path
        case ":authority", "host": return authority
        case ":scheme": return "http"
        default: return headers.first(name: name)
        }
    }

    /// The routing view, for an access log filter's header matcher.
    var view: RequestView { RequestView(method: method, uri: path, authority: authority, headers: headers) }
}

/// Envoy's substitution formats and access log filters over an entry.
enum AccessLogLine {
    static func passes(_ f: AccessLogFilter, _ e: AccessLogEntry) -> Bool {
        func compare(_ op: AccessLogFilter.Comparison, _ a: Int, _ b: Int) -> Bool {
            switch op {
            case .eq: return a == b
            case .ne: return a != b
            case .ge: return a >= b
            case .le: return a <= b
            }
        }
        switch f {
        case let .status(op, v): return compare(op, e.responseCode, v)
        case let .duration(op, v): return compare(op, e.durationMs, v)
        case let .header(m): return e.request.map { m.matches($0.view) } ?? false
        case let .responseFlags(set):
            guard e.flags != "-" else { return false }
            return set.isEmpty || e.flags.split(separator: ",").contains { set.contains(String($0)) }
        case .notHealthCheck: return !e.healthCheck
        case let .and(xs): return xs.allSatisfy { passes($0, e) }
        case let .or(xs): return xs.contains { passes($0, e) }
        }
    }

    /// The line as text (tests; the request path writes bytes with `write`).
    static func render(_ format: AccessLogFormat, _ e: AccessLogEntry) -> String {
        var out: [UInt8] = []
        var clock = TimestampCache()
        write(format, e, into: &out, clock: &clock)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the line to `out`: text straight into the bytes (numbers as digits, the start time from a
    /// per-second cache), JSON through a string.
    static func write(_ format: AccessLogFormat, _ e: AccessLogEntry, into out: inout [UInt8], clock: inout TimestampCache) {
        switch format {
        case let .text(pieces):
            for p in pieces {
                switch p {
                case let .literal(s): out.append(contentsOf: s.utf8)
                case let .field(f): writeField(f, e, into: &out, clock: &clock)
                }
            }
        case let .json(fields):
            var line = "{"
            for (i, f) in fields.enumerated() {
                if i > 0 { line += "," }
                JSONValue.escape(f.key, into: &line)
                line += ":"
                if f.pieces.count == 1, case let .field(op) = f.pieces[0] {
                    guard let v = value(op, e) else { line += "null"; continue }
                    if op.isNumeric { line += v } else { JSONValue.escape(v, into: &line) }
                } else {
                    var s = ""
                    for p in f.pieces {
                        switch p {
                        case let .literal(l): s += l
                        case let .field(op): s += value(op, e) ?? "-"
                        }
                    }
                    JSONValue.escape(s, into: &line)
                }
            }
            line += "}\n"
            out.append(contentsOf: line.utf8)
        }
    }

    /// One text field; `-` when it is not known.
    static func writeField(_ f: FormatField, _ e: AccessLogEntry, into out: inout [UInt8], clock: inout TimestampCache) {
        switch f {
        case .startTime: clock.write(e.startMicros, into: &out)
        case .responseCode: digits(e.responseCode, into: &out)
        case .bytesReceived: digits(e.bytesReceived, into: &out)
        case .bytesSent: digits(e.bytesSent, into: &out)
        case .duration, .requestDuration, .responseDuration: digits(e.durationMs, into: &out)
        default:
            if let v = value(f, e) { out.append(contentsOf: v.utf8) } else { out.append(UInt8(ascii: "-")) }
        }
    }

    static func digits(_ n: Int, into out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")); return digits(-n, into: &out) }
        if n >= 10 { digits(n / 10, into: &out) }
        out.append(UInt8(ascii: "0") + UInt8(n % 10))
    }

    static func value(_ f: FormatField, _ e: AccessLogEntry) -> String? {
        switch f {
        case .startTime: return timestamp(e.startMicros)
        case let .request(name, alt, max):
            guard let r = e.request else { return nil }
            return cut(r.header(name) ?? alt.flatMap { r.header($0) }, max)
        case let .response(name, max): return cut(e.responseHeaders?.joinedValues(name), max)
        case .protocolName: return e.protocolName
        case .responseCode: return String(e.responseCode)
        case .responseFlags: return e.flags
        case .responseCodeDetails: return e.details
        case .connectionTerminationDetails, .upstreamTransportFailureReason, .upstreamLocalAddress: return nil
        case .bytesReceived: return String(e.bytesReceived)
        case .bytesSent: return String(e.bytesSent)
        case .duration, .requestDuration, .responseDuration: return String(e.durationMs)
        case .upstreamHost: return e.upstreamHost
        case .upstreamCluster: return e.upstreamCluster
        case .downstreamLocalAddress: return e.downstreamLocal
        case .downstreamRemoteAddress: return e.downstreamRemote
        case .downstreamLocalAddressWithoutPort: return e.downstreamLocal.map(withoutPort)
        case .downstreamRemoteAddressWithoutPort: return e.downstreamRemote.map(withoutPort)
        case .requestedServerName: return e.serverName
        case .routeName: return e.routeName
        case .traceID: return e.traceID
        case .hostname: return hostName
        }
    }

    static let hostName: String = {
        var buf = [CChar](repeating: 0, count: 256)
        return gethostname(&buf, buf.count) == 0 ? String(cString: buf) : "-"
    }()

    static func cut(_ s: String?, _ max: Int?) -> String? {
        guard let s, let max, s.count > max else { return s }
        return String(s.prefix(max))
    }

    static func withoutPort(_ a: String) -> String {
        if a.hasPrefix("["), let close = a.firstIndex(of: "]") { return String(a[a.index(after: a.startIndex)..<close]) }
        guard let colon = a.lastIndex(of: ":") else { return a }
        return String(a[..<colon])
    }

    /// Envoy's default START_TIME: `2026-12-03T19:20:01.123Z`.
    static func timestamp(_ micros: Int64) -> String {
        var t = time_t(micros / 1_000_000)
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ms = Int(micros / 1000 % 1000)
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)).\(msText)Z"
    }

    /// Wall-clock now, in microseconds since the epoch.
    static func wallMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}

/// Envoy's START_TIME (`2026-12-03T19:20:01.123Z`) with the date and time formatted once a second.
struct TimestampCache {
    private var second: Int64 = -1
    private var prefix: [UInt8] = []

    mutating func write(_ micros: Int64, into out: inout [UInt8]) {
        let s = micros / 1_000_000
        if s != second {
            second = s
            let full = AccessLogLine.timestamp(micros)
            prefix = Array(full.utf8.prefix(19))
        }
        out.append(contentsOf: prefix)
        out.append(UInt8(ascii: "."))
        let ms = Int(micros / 1000 % 1000)
        out.append(UInt8(ascii: "0") + UInt8(ms / 100))
        out.append(UInt8(ascii: "0") + UInt8(ms / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(ms % 10))
        out.append(UInt8(ascii: "Z"))
    }
}
