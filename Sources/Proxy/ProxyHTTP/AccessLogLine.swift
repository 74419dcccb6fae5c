#if canImport(Glibc)
import Glibc
#endif
import ProxyConfig
import ProxyRouting

/// What one request (or TCP connection) tells its access log, gathered when it ends.
struct AccessLogEntry {
    /// Wall-clock start, in microseconds since the epoch.
    var startMicros: Int64 = 0
    /// The request's pseudo-headers and headers (nil for TCP).
    var request: RequestView?
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
        case let .header(m): return e.request.map { m.matches($0) } ?? false
        case let .responseFlags(set):
            guard e.flags != "-" else { return false }
            return set.isEmpty || e.flags.split(separator: ",").contains { set.contains(String($0)) }
        case .notHealthCheck: return !e.healthCheck
        case let .and(xs): return xs.allSatisfy { passes($0, e) }
        case let .or(xs): return xs.contains { passes($0, e) }
        }
    }

    static func render(_ format: AccessLogFormat, _ e: AccessLogEntry) -> String {
        switch format {
        case let .text(pieces):
            var out = ""
            for p in pieces {
                switch p {
                case let .literal(s): out += s
                case let .field(f): out += value(f, e) ?? "-"
                }
            }
            return out
        case let .json(fields):
            var out = "{"
            for (i, f) in fields.enumerated() {
                if i > 0 { out += "," }
                out += "\"" + escape(f.key) + "\":"
                if f.pieces.count == 1, case let .field(op) = f.pieces[0] {
                    guard let v = value(op, e) else { out += "null"; continue }
                    out += op.isNumeric ? v : "\"" + escape(v) + "\""
                } else {
                    var s = ""
                    for p in f.pieces {
                        switch p {
                        case let .literal(l): s += l
                        case let .field(op): s += value(op, e) ?? "-"
                        }
                    }
                    out += "\"" + escape(s) + "\""
                }
            }
            return out + "}\n"
        }
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

    static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// Wall-clock now, in microseconds since the epoch.
    static func wallMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}
