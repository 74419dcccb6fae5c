/// An access log a listener writes (Envoy's file access logger): where, in what format, for which requests.
/// Compiled once when xDS arrives; equal when their xDS source is.
public struct AccessLogConfig: Sendable, Equatable {
    public var path: String
    public var format: AccessLogFormat
    public var filter: AccessLogFilter?
    /// The xDS form it was compiled from (equality: a changed log is a changed listener).
    public var source: [UInt8]

    public init(path: String, format: AccessLogFormat, filter: AccessLogFilter?, source: [UInt8]) {
        self.path = path
        self.format = format
        self.filter = filter
        self.source = source
    }

    public static func == (a: Self, b: Self) -> Bool { a.source == b.source }
}

/// A line as Envoy's substitution format strings describe it: text with `%OPERATOR%`s, or a JSON object whose
/// values are such strings.
public enum AccessLogFormat: Sendable {
    case text([FormatPiece])
    case json([(key: String, pieces: [FormatPiece])])

    /// Parses a format string; throws the first unknown or malformed operator.
    public static func pieces(_ s: String) throws(FormatError) -> [FormatPiece] {
        var out: [FormatPiece] = []
        var literal = ""
        var rest = Substring(s)
        while let pct = rest.firstIndex(of: "%") {
            literal += rest[..<pct]
            let after = rest[rest.index(after: pct)...]
            if after.first == "%" {
                literal += "%"
                rest = after.dropFirst()
                continue
            }
            guard let end = after.firstIndex(of: "%") else { throw FormatError(message: "unterminated operator at '\(rest)'") }
            let op = String(after[..<end])
            if !literal.isEmpty { out.append(.literal(literal)); literal = "" }
            out.append(.field(try FormatField(op)))
            rest = after[after.index(after: end)...]
        }
        literal += rest
        if !literal.isEmpty { out.append(.literal(literal)) }
        return out
    }
}

public struct FormatError: Error, Sendable { public var message: String }

public enum FormatPiece: Sendable {
    case literal(String)
    case field(FormatField)
}

/// The command operators weft proxy fills in (Envoy's names).
public enum FormatField: Sendable, Equatable {
    case startTime
    /// `%REQ(NAME?ALT):LEN%`: a request header, its alternative, cut to a length.
    case request(String, alternative: String?, maxLength: Int?)
    case response(String, maxLength: Int?)
    case protocolName, responseCode, responseFlags, responseCodeDetails, connectionTerminationDetails
    case upstreamTransportFailureReason, bytesReceived, bytesSent, duration, requestDuration, responseDuration
    case upstreamHost, upstreamCluster, upstreamLocalAddress, downstreamLocalAddress, downstreamRemoteAddress
    case downstreamLocalAddressWithoutPort, downstreamRemoteAddressWithoutPort, requestedServerName, routeName, traceID
    case hostname

    /// Whether Envoy's JSON format writes it as a number.
    public var isNumeric: Bool {
        switch self {
        case .responseCode, .bytesReceived, .bytesSent, .duration, .requestDuration, .responseDuration: return true
        default: return false
        }
    }

    init(_ op: String) throws(FormatError) {
        let simple: [String: FormatField] = [
            "START_TIME": .startTime, "PROTOCOL": .protocolName, "RESPONSE_CODE": .responseCode,
            "RESPONSE_FLAGS": .responseFlags, "RESPONSE_CODE_DETAILS": .responseCodeDetails,
            "CONNECTION_TERMINATION_DETAILS": .connectionTerminationDetails,
            "UPSTREAM_TRANSPORT_FAILURE_REASON": .upstreamTransportFailureReason, "BYTES_RECEIVED": .bytesReceived,
            "BYTES_SENT": .bytesSent, "DURATION": .duration, "REQUEST_DURATION": .requestDuration,
            "RESPONSE_DURATION": .responseDuration, "UPSTREAM_HOST": .upstreamHost, "UPSTREAM_CLUSTER": .upstreamCluster,
            "UPSTREAM_CLUSTER_RAW": .upstreamCluster, "UPSTREAM_LOCAL_ADDRESS": .upstreamLocalAddress,
            "DOWNSTREAM_LOCAL_ADDRESS": .downstreamLocalAddress, "DOWNSTREAM_REMOTE_ADDRESS": .downstreamRemoteAddress,
            "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT": .downstreamLocalAddressWithoutPort,
            "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": .downstreamRemoteAddressWithoutPort,
            "REQUESTED_SERVER_NAME": .requestedServerName, "ROUTE_NAME": .routeName, "TRACE_ID": .traceID,
            "HOSTNAME": .hostname,
        ]
        if let f = simple[op] { self = f; return }
        for (prefix, isRequest) in [("REQ(", true), ("RESP(", false)] where op.hasPrefix(prefix) {
            guard let close = op.lastIndex(of: ")") else { throw FormatError(message: "'%\(op)%' has no ')'") }
            let inner = op[op.index(op.startIndex, offsetBy: prefix.count)..<close]
            var maxLength: Int?
            let tail = op[op.index(after: close)...]
            if !tail.isEmpty {
                guard tail.first == ":", let n = Int(tail.dropFirst()), n > 0 else { throw FormatError(message: "'%\(op)%': bad length") }
                maxLength = n
            }
            let parts = inner.split(separator: "?", maxSplits: 1).map { $0.lowercased() }
            guard let name = parts.first, !name.isEmpty else { throw FormatError(message: "'%\(op)%' names no header") }
            self = isRequest ? .request(name, alternative: parts.count > 1 ? parts[1] : nil, maxLength: maxLength)
                             : .response(name, maxLength: maxLength)
            return
        }
        throw FormatError(message: "unsupported command operator '%\(op)%'")
    }
}

/// Envoy's access log filters that weft proxy evaluates.
public indirect enum AccessLogFilter: Sendable {
    public enum Comparison: Sendable { case eq, ne, ge, le }
    case status(Comparison, Int)
    case duration(Comparison, Int)
    case header(HeaderMatcher)
    /// Logs requests with any of these flags (all flags when empty).
    case responseFlags(Set<String>)
    case notHealthCheck
    case and([AccessLogFilter])
    case or([AccessLogFilter])
}
