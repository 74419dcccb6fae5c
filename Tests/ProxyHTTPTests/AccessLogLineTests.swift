import NIOHTTP1
import ProxyConfig
import ProxyRouting
import Testing
@testable import ProxyHTTP

/// Access log lines as Envoy writes them: text with `-` for what is missing, JSON with numbers as numbers and
/// `null` for what is missing, Envoy's START_TIME, and the filters.
@Suite struct AccessLogLineTests {
    static func entry() -> AccessLogEntry {
        var e = AccessLogEntry()
        e.startMicros = 1_796_325_601_123_456  // 2026-12-03T19:20:01.123Z
        e.request = LoggedRequest(method: "GET", path: "/a?b=1", authority: "reviews:9080",
                                  headers: HTTPHeaders([("user-agent", "curl/8 \"x\""), ("x-request-id", "r1")]))
        e.protocolName = "HTTP/1.1"
        e.responseCode = 503
        e.flags = "UF"
        e.bytesSent = 19
        e.durationMs = 7
        e.upstreamHost = "10.0.0.1:8080"
        e.traceID = "0af7651916cd43dd8448eb211c80319c"
        return e
    }

    @Test func textLine() throws {
        let f = AccessLogFormat.text(try AccessLogFormat.pieces(
            "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% \"%REQ(USER-AGENT):6%\" \"%UPSTREAM_HOST%\" %ROUTE_NAME% %TRACE_ID% 100%%\n"))
        #expect(AccessLogLine.render(f, Self.entry())
            == "[2026-12-03T19:20:01.123Z] \"GET /a?b=1 HTTP/1.1\" 503 UF 0 19 7 \"curl/8\" \"10.0.0.1:8080\" - 0af7651916cd43dd8448eb211c80319c 100%\n")
    }

    @Test func jsonLine() throws {
        let f = AccessLogFormat.json([
            (key: "code", pieces: try AccessLogFormat.pieces("%RESPONSE_CODE%")),
            (key: "ua", pieces: try AccessLogFormat.pieces("%REQ(USER-AGENT)%")),
            (key: "route", pieces: try AccessLogFormat.pieces("%ROUTE_NAME%")),
            (key: "mixed", pieces: try AccessLogFormat.pieces("%REQ(:AUTHORITY)%-%RESPONSE_FLAGS%")),
        ])
        #expect(AccessLogLine.render(f, Self.entry()) == "{\"code\":503,\"ua\":\"curl/8 \\\"x\\\"\",\"route\":null,\"mixed\":\"reviews:9080-UF\"}\n")
    }

    @Test func filters() {
        let e = Self.entry()
        #expect(AccessLogLine.passes(.status(.ge, 500), e))
        #expect(!AccessLogLine.passes(.status(.le, 499), e))
        #expect(AccessLogLine.passes(.and([.status(.ne, 200), .responseFlags(["UF", "UH"])]), e))
        #expect(!AccessLogLine.passes(.responseFlags(["NR"]), e))
        #expect(AccessLogLine.passes(.or([.duration(.ge, 1000), .header(HeaderMatcher(name: ":method", kind: .string(.exact("GET"))))]), e))
        #expect(!AccessLogLine.passes(.header(HeaderMatcher(name: "x-request-id", kind: .string(.exact("r1")), invert: true)), e))
    }
}
