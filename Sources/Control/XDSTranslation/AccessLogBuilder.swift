import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftModel

/// Access logs of a listener from the Telemetry that applies to its workload: Envoy's file access logger with
/// Istio's default text line (the trace id added last) or Istio's default JSON, and a Telemetry
/// `filter.expression` as Envoy's native access log filters (LogFilter's CEL subset).
public enum AccessLogFormats {
    /// Istio's default text format, with `%TRACE_ID%` at the end.
    public static let text = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
        + "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" "
        + "%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" "
        + "\"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% "
        + "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% "
        + "%ROUTE_NAME% %TRACE_ID%\n"

    /// Istio's default JSON keys, with `trace_id`.
    public static let json: [(String, String)] = [
        ("authority", "%REQ(:AUTHORITY)%"), ("bytes_received", "%BYTES_RECEIVED%"), ("bytes_sent", "%BYTES_SENT%"),
        ("connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%"),
        ("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"), ("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"),
        ("duration", "%DURATION%"), ("method", "%REQ(:METHOD)%"), ("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
        ("protocol", "%PROTOCOL%"), ("request_id", "%REQ(X-REQUEST-ID)%"), ("requested_server_name", "%REQUESTED_SERVER_NAME%"),
        ("response_code", "%RESPONSE_CODE%"), ("response_code_details", "%RESPONSE_CODE_DETAILS%"),
        ("response_flags", "%RESPONSE_FLAGS%"), ("route_name", "%ROUTE_NAME%"), ("start_time", "%START_TIME%"),
        ("trace_id", "%TRACE_ID%"), ("upstream_cluster", "%UPSTREAM_CLUSTER%"), ("upstream_host", "%UPSTREAM_HOST%"),
        ("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"),
        ("upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"),
        ("upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%"), ("user_agent", "%REQ(USER-AGENT)%"),
        ("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"),
    ]
}

enum AccessLogBuilder {
    typealias AccessLog = Envoy_Config_Accesslog_V3_AccessLog
    typealias Filter = Envoy_Config_Accesslog_V3_AccessLogFilter

    static let fileLogger = "envoy.access_loggers.file"

    static func logs(_ logs: [TelemetryPolicies.AccessLog]) -> [AccessLog] {
        logs.map { l in
            var file = Envoy_Extensions_AccessLoggers_File_V3_FileAccessLog()
            file.path = l.path
            var format = Envoy_Config_Core_V3_SubstitutionFormatString()
            switch l.encoding {
            case .TEXT:
                var source = Envoy_Config_Core_V3_DataSource()
                source.inlineString = AccessLogFormats.text
                format.textFormatSource = source
            case .JSON:
                var s = Google_Protobuf_Struct()
                for (k, v) in AccessLogFormats.json { s.fields[k] = Google_Protobuf_Value(stringValue: v) }
                format.jsonFormat = s
            }
            file.logFormat = format
            var out = AccessLog()
            out.name = fileLogger
            out.typedConfig = Proto.any(file)
            if let f = l.filter { out.filter = filter(f) }
            return out
        }
    }

    /// The CEL subset as Envoy's access log filters (status code comparisons, header matchers, and, or).
    static func filter(_ f: LogFilter) -> Filter {
        var out = Filter()
        switch f {
        case let .status(op, n):
            var c = Envoy_Config_Accesslog_V3_ComparisonFilter()
            var v = n
            switch op {
            case .eq: c.op = .eq
            case .ne: c.op = .ne
            case .ge: c.op = .ge
            case .le: c.op = .le
            case .gt: c.op = .ge; v = n + 1
            case .lt: c.op = .le; v = n - 1
            }
            var r = Envoy_Config_Core_V3_RuntimeUInt32()
            r.defaultValue = UInt32(clamping: max(0, v))
            r.runtimeKey = "weft.access_log.status_code"
            c.value = r
            var s = Envoy_Config_Accesslog_V3_StatusCodeFilter()
            s.comparison = c
            out.statusCodeFilter = s
        case let .header(name, value, equal):
            var m = Envoy_Config_Route_V3_HeaderMatcher()
            m.name = name
            m.stringMatch = Proto.stringMatcher(exact: value)
            m.invertMatch = !equal
            var h = Envoy_Config_Accesslog_V3_HeaderFilter()
            h.header = m
            out.headerFilter = h
        case let .and(xs):
            var a = Envoy_Config_Accesslog_V3_AndFilter()
            a.filters = xs.map(filter)
            out.andFilter = a
        case let .or(xs):
            var o = Envoy_Config_Accesslog_V3_OrFilter()
            o.filters = xs.map(filter)
            out.orFilter = o
        }
        return out
    }
}
