import EnvoyAPI
import ProxyConfig
import ProxyRouting
import Testing
import WeftConfig
import WeftCore
import WeftModel
@testable import XDSClient
import XDSTranslation

/// Telemetry from the control plane's translation to weft proxy's snapshot: access logs (format and filter) and
/// tracing (collector cluster, sampling, tags) on the side the Telemetry's mode names, metric overrides, and the
/// Envoy config shapes (parent-based sampler, static collector cluster) Envoy is sent.
@Suite struct ObservabilityConversionTests {
    static let telemetry = """
    ---
    apiVersion: telemetry.istio.io/v1
    kind: Telemetry
    metadata: {name: mesh, namespace: istio-system}
    spec:
      accessLogging:
      - providers: [{name: json}]
        match: {mode: CLIENT}
        filter: {expression: "response.code >= 500 || request.headers['x-debug'] == '1'"}
      tracing:
      - randomSamplingPercentage: 25
        customTags: {team: {literal: {value: shop}}}
      metrics:
      - overrides:
        - match: {metric: REQUEST_DURATION, mode: SERVER}
          disabled: true
    """

    static func meshConfig() throws -> MeshTelemetryConfig {
        try MeshTelemetryConfig.decode(text: """
            extensionProviders:
            - {name: json, envoyFileAccessLog: {path: /tmp/a.log, logFormat: {labels: {}}}}
            - {name: otel, opentelemetry: {service: 127.0.0.9, port: 4317}}
            defaultProviders: {tracing: [otel]}
            """, file: "mesh.yaml")
    }

    static func snapshot() throws -> (ProxySnapshot, ProxyResources) {
        var state = MeshState(version: 1, resources: try ResourceDecoder.decode(text: Fixture.mesh + "\n" + telemetry, file: "f.yaml"), workloads: [])
        state.telemetry.mesh = try meshConfig()
        let r = Translator.translate(mesh: state, proxy: Fixture.proxy)
        return (try Fixture.assemble(r), r)
    }

    @Test func accessLogOnTheClientSideOnly() throws {
        let (s, _) = try Self.snapshot()
        let out = try #require(s.listeners["outbound_http"]?.telemetry)
        #expect(out.accessLogs.count == 1 && out.accessLogs[0].path == "/tmp/a.log")
        guard case let .json(fields)? = out.accessLogs.first?.format else { Issue.record("json format"); return }
        #expect(fields.map(\.key).contains("trace_id") && fields.map(\.key).contains("upstream_host"))
        guard case let .or(parts)? = out.accessLogs[0].filter, parts.count == 2 else { Issue.record("or filter"); return }
        let inbound = try #require(s.listeners.values.first { $0.telemetry?.reporter == .destination }?.telemetry)
        #expect(inbound.accessLogs.isEmpty)
    }

    @Test func tracingWithParentBasedSamplingOnBothSides() throws {
        let (s, r) = try Self.snapshot()
        for l in s.listeners.values where l.name == "outbound_http" || l.telemetry?.reporter == .destination {
            let t = try #require(l.telemetry?.tracing)
            #expect(t.cluster == "opentelemetry|otel" && t.export == .grpc)
            #expect(t.samplingPerMillion == 250_000 && t.honourParent)
            #expect(t.customTags.count == 1 && t.customTags[0].tag == "team")
            #expect(t.serviceName == "productpage.shop")
        }
        let c = try #require(r.clusters.first { $0.name == "opentelemetry|otel" })
        #expect(c.type == .static && c.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address == "127.0.0.9")
        #expect(s.clusters["opentelemetry|otel"]?.http2 == true)
    }

    @Test func metricOverridesOnTheServerSide() throws {
        let (s, _) = try Self.snapshot()
        let inbound = try #require(s.listeners.values.first { $0.telemetry?.reporter == .destination }?.telemetry)
        #expect(inbound.metricOverrides.rules == [MetricOverrides.Rule(metric: "REQUEST_DURATION", disabled: true)])
        #expect(inbound.metricOverrides.apply(metric: "istio_request_duration_milliseconds", [("a", "b")]) == nil)
        #expect(inbound.metricOverrides.apply(metric: "istio_requests_total", [("a", "b")])?.map(\.0) == ["a"])
        #expect(s.listeners["outbound_http"]?.telemetry?.metricOverrides.rules.isEmpty == true)
    }

    @Test func noTelemetryMeansNoLogsNoTracing() throws {
        let s = try Fixture.snapshot()
        let out = try #require(s.listeners["outbound_http"]?.telemetry)
        #expect(out.accessLogs.isEmpty && out.tracing == nil)
    }

    @Test func unknownFormatOperatorsAreRefused() throws {
        var f = Envoy_Config_Core_V3_SubstitutionFormatString()
        var ds = Envoy_Config_Core_V3_DataSource()
        ds.inlineString = "%START_TIME% %FILTER_STATE(x)%\n"
        f.textFormatSource = ds
        #expect(throws: (any Error).self) { try XDSConversion.logFormat(f) }
        ds.inlineString = "%REQ(:PATH):10% 100%% %BYTES_SENT%"
        f.textFormatSource = ds
        guard case let .text(pieces) = try XDSConversion.logFormat(f) else { Issue.record("text"); return }
        #expect(pieces.count == 3)
    }
}

/// W3C and B3 trace contexts read and written as both data planes' peers send them.
@Suite struct TraceContextTests {
    @Test func w3cIsReadAndContinued() throws {
        let h: HeaderList = ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "k=v"]
        let c = try #require(TraceContext.extract(h))
        #expect(c.traceIDHex == "0af7651916cd43dd8448eb211c80319c" && c.parentSpan == 0xb7ad6b7169203331 && c.sampled == true)
        let out = Dictionary(uniqueKeysWithValues: c.headers(span: 0x1, sampled: true))
        #expect(out["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-0000000000000001-01" && out["tracestate"] == "k=v")
    }

    @Test(arguments: ["00-00000000000000000000000000000000-b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
                      "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
                      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", "garbage"])
    func malformedTraceparentStartsANewTrace(_ v: String) {
        #expect(TraceContext.extract(HeaderList([("traceparent", v)])) == nil)
    }

    @Test func b3MultiAndSingle() throws {
        let multi: HeaderList = ["x-b3-traceid": "463ac35c9f6413ad", "x-b3-spanid": "a2fb4a1d1a96d312", "x-b3-sampled": "0"]
        let m = try #require(TraceContext.extract(multi))
        #expect(m.traceHigh == 0 && m.sampled == false && m.b3 == .b3Multi)
        let out = Dictionary(uniqueKeysWithValues: m.headers(span: 0xabc, sampled: false))
        #expect(out["x-b3-traceid"] == "463ac35c9f6413ad" && out["x-b3-spanid"] == "0000000000000abc" && out["x-b3-parentspanid"] == "a2fb4a1d1a96d312")
        #expect(out["traceparent"] == "00-0000000000000000463ac35c9f6413ad-0000000000000abc-00")
        let single = try #require(TraceContext.extract(HeaderList([("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")])))
        #expect(single.sampled == true && single.b3 == .b3Single)
        #expect(TraceContext.extract(HeaderList([("b3", "1")])) == nil)
        let debug: HeaderList = ["x-b3-traceid": "463ac35c9f6413ad", "x-b3-spanid": "a2fb4a1d1a96d312", "x-b3-flags": "1"]
        #expect(TraceContext.extract(debug)?.sampled == true)
    }
}
