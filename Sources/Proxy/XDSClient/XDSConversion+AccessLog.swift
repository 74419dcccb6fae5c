import EnvoyAPI
import ProxyConfig
import SwiftProtobuf

/// Access logs (`access_log` of an HTTP connection manager or TCP proxy): Envoy's file and stdout/stderr
/// loggers with a text or JSON substitution format, and the access log filters weft proxy evaluates. Anything
/// else is refused with its path.
extension XDSConversion {
    static let fileLogger = "envoy.access_loggers.file"
    static let fileLoggerType = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
    static let stdoutLoggerType = "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"
    static let stderrLoggerType = "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog"

    static func accessLogs(_ logs: [Envoy_Config_Accesslog_V3_AccessLog]) throws -> [AccessLogConfig] {
        try each("access_log", logs) { l in try accessLog(l) }
    }

    static func accessLog(_ l: Envoy_Config_Accesslog_V3_AccessLog) throws -> AccessLogConfig {
        guard case let .typedConfig(any)? = l.configType else { throw FieldError("typed_config is missing", at: ["typed_config"]) }
        let path: String
        let format: Envoy_Config_Core_V3_SubstitutionFormatString?
        switch any.typeURL {
        case fileLoggerType:
            let f = try field("typed_config") { try Envoy_Extensions_AccessLoggers_File_V3_FileAccessLog(unpackingAny: any) }
            guard !f.path.isEmpty else { throw FieldError("path is empty", at: ["typed_config", "path"]) }
            path = f.path
            if case let .logFormat(x)? = f.accessLogFormat { format = x } else { format = nil }
        case stdoutLoggerType, stderrLoggerType:
            let f = try field("typed_config") { try Envoy_Extensions_AccessLoggers_Stream_V3_StdoutAccessLog(unpackingAny: any) }
            path = any.typeURL == stdoutLoggerType ? "/dev/stdout" : "/dev/stderr"
            if case let .logFormat(x)? = f.accessLogFormat { format = x } else { format = nil }
        default:
            throw FieldError("unsupported access logger '\(any.typeURL)'", at: ["typed_config"])
        }
        let compiled = try field("typed_config.log_format") { try logFormat(format) }
        let filter = l.hasFilter ? try field("filter") { try accessLogFilter(l.filter) } : nil
        let source = (try? l.serializedBytes()) ?? []
        return AccessLogConfig(path: path, format: compiled, filter: filter, source: source)
    }

    /// Envoy's default line when no format is given.
    static let envoyDefaultFormat = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
        + "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
        + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
        + "\"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n"

    static func logFormat(_ f: Envoy_Config_Core_V3_SubstitutionFormatString?) throws -> AccessLogFormat {
        func pieces(_ s: String, _ at: [String]) throws -> [FormatPiece] {
            do { return try AccessLogFormat.pieces(s) } catch { throw FieldError(error.message, at: at) }
        }
        guard let f else { return .text(try pieces(envoyDefaultFormat, [])) }
        if f.omitEmptyValues { throw FieldError("omit_empty_values is not supported", at: ["omit_empty_values"]) }
        switch f.format {
        case let .textFormatSource(ds)?:
            guard case let .inlineString(s)? = ds.specifier else {
                throw FieldError("only inline_string is supported", at: ["text_format_source"])
            }
            return .text(try pieces(s, ["text_format_source", "inline_string"]))
        case let .jsonFormat(st)?:
            return .json(try st.fields.keys.sorted().map { key in
                guard case let .stringValue(v)? = st.fields[key]?.kind else {
                    throw FieldError("only string values are supported", at: ["json_format", key])
                }
                return (key: key, pieces: try pieces(v, ["json_format", key]))
            })
        case nil: return .text(try pieces(envoyDefaultFormat, []))
        }
    }

    static func accessLogFilter(_ f: Envoy_Config_Accesslog_V3_AccessLogFilter) throws -> AccessLogFilter {
        func comparison(_ c: Envoy_Config_Accesslog_V3_ComparisonFilter, _ at: String) throws -> (AccessLogFilter.Comparison, Int) {
            let op: AccessLogFilter.Comparison
            switch c.op {
            case .eq: op = .eq
            case .ne: op = .ne
            case .ge: op = .ge
            case .le: op = .le
            case .UNRECOGNIZED: throw FieldError("unknown comparison", at: [at, "comparison", "op"])
            }
            return (op, Int(c.value.defaultValue))
        }
        switch f.filterSpecifier {
        case let .statusCodeFilter(s)?:
            let (op, v) = try comparison(s.comparison, "status_code_filter")
            return .status(op, v)
        case let .durationFilter(d)?:
            let (op, v) = try comparison(d.comparison, "duration_filter")
            return .duration(op, v)
        case .notHealthCheckFilter?: return .notHealthCheck
        case let .headerFilter(h)?: return .header(try field("header_filter.header") { try headerMatcher(h.header) })
        case let .responseFlagFilter(r)?: return .responseFlags(Set(r.flags))
        case let .andFilter(a)?: return .and(try each("and_filter.filters", a.filters) { try accessLogFilter($0) })
        case let .orFilter(o)?: return .or(try each("or_filter.filters", o.filters) { try accessLogFilter($0) })
        case nil: throw FieldError("the filter is empty")
        }
    }
}
