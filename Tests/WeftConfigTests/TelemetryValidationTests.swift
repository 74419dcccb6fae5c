import Testing
import WeftConfig

/// Istio's Telemetry kind and MeshConfig's telemetry providers: shapes accepted, bad input refused with field
/// paths, and the CEL subset of access log filters.
@Suite struct TelemetryValidationTests {
    func problems(_ spec: String, apiVersion: String = "telemetry.istio.io/v1") -> [String] {
        let doc = "apiVersion: \(apiVersion)\nkind: Telemetry\nmetadata: {name: t, namespace: shop}\nspec: \(spec)\n"
        do { _ = try ResourceDecoder.decode(text: doc, file: "t.yaml"); return [] } catch {
            return error.diagnostics.map { "\($0.path): \($0.message)" }
        }
    }

    @Test func acceptsIstioShapes() {
        #expect(problems("{}") == [])
        #expect(problems("{accessLogging: [{providers: [{name: envoy}]}]}") == [])
        #expect(problems("{accessLogging: [{disabled: true}]}", apiVersion: "telemetry.istio.io/v1alpha1") == [])
        #expect(problems("{selector: {matchLabels: {app: reviews}}, accessLogging: [{match: {mode: SERVER}, filter: {expression: \"response.code >= 400\"}}]}") == [])
        #expect(problems("""
            {tracing: [{providers: [{name: otel}], randomSamplingPercentage: 10.5, customTags: {team: {literal: {value: shop}}, \
            user: {header: {name: x-user, defaultValue: none}}, zone: {environment: {name: ZONE}}}}]}
            """) == [])
        #expect(problems("""
            {metrics: [{providers: [{name: prometheus}], overrides: [{match: {metric: REQUEST_COUNT, mode: CLIENT}, disabled: true}, \
            {match: {metric: ALL_METRICS}, tagOverrides: {request_protocol: {operation: REMOVE}, destination_cluster: {value: "'east'"}}}]}]}
            """) == [])
    }

    @Test func refusesWithFieldPaths() {
        #expect(problems("{}", apiVersion: "telemetry.istio.io/v2") == ["apiVersion: 'telemetry.istio.io/v2' is not supported for Telemetry (use telemetry.istio.io/v1 or v1alpha1)"])
        #expect(problems("{tracing: [{randomSamplingPercentage: 120}]}") == ["spec.tracing[0].randomSamplingPercentage: percentage must be between 0 and 100, got 120.0"])
        #expect(problems("{accessLogging: [{match: {mode: BOTH}}]}").first?.hasPrefix("spec.accessLogging[0].match.mode:") == true)
        #expect(problems("{accessLogging: [{filter: {expression: \"response.duration > 10\"}}]}").first?
            .hasPrefix("spec.accessLogging[0].filter.expression: 'response.duration' is not supported") == true)
        #expect(problems("{metrics: [{overrides: [{tagOverrides: {nope: {operation: REMOVE}}}]}]}")
            == ["spec.metrics[0].overrides[0].tagOverrides.nope: 'nope' is not a label of Istio's standard metrics"])
        #expect(problems("{metrics: [{overrides: [{tagOverrides: {source_app: {value: \"request.host\"}}}]}]}")
            == ["spec.metrics[0].overrides[0].tagOverrides.source_app.value: only a quoted string literal is supported as a value, got 'request.host'"])
        #expect(problems("{tracing: [{customTags: {x: {}}}]}") == ["spec.tracing[0].customTags.x: a custom tag needs literal, environment or header"])
        #expect(problems("{accessLogging: [{bogus: 1}]}").first?.hasPrefix("spec.accessLogging[0].bogus") == true)
    }

    @Test(arguments: [
        ("response.code >= 400", LogFilter.status(.ge, 400)),
        ("400 <= response.code", .status(.ge, 400)),
        ("response.code == 503 || request.method == 'POST'", .or([.status(.eq, 503), .header(":method", value: "POST", equal: true)])),
        ("!(response.code < 500) && request.headers['x-debug'] != \"1\"", .and([.status(.ge, 500), .header("x-debug", value: "1", equal: false)])),
        ("!(response.code >= 200 && response.code < 300)", .or([.status(.lt, 200), .status(.ge, 300)])),
        ("request.path == '/healthz'", .header(":path", value: "/healthz", equal: true)),
        ("(request.host == 'a')", .header(":authority", value: "a", equal: true)),
    ])
    func parsesTheCELSubset(_ text: String, _ want: LogFilter) throws {
        #expect(try LogFilter.parse(text).get() == want)
    }

    @Test(arguments: ["", "response.code", "response.code >= 'x'", "request.method > 'GET'", "request.headers[x] == 'y'",
                      "size(request.headers) > 1", "response.code >= 400 &&", "(response.code == 1", "response.code == 1 extra"])
    func refusesOtherCEL(_ text: String) {
        if case .success = LogFilter.parse(text) { Issue.record("'\(text)' should be refused") }
    }

    @Test func meshConfigProviders() throws {
        let m = try MeshTelemetryConfig.decode(text: """
            accessLogFile: /var/log/access.log
            accessLogEncoding: JSON
            defaultConfig: {tracing: {sampling: 2.5}}
            extensionProviders:
            - name: otel
              opentelemetry: {service: collector.observability, port: 4317}
            - name: otel-http
              opentelemetry: {service: 10.0.0.9, port: 4318, http: {path: v1/traces, timeout: 2s}}
            - name: json
              envoyFileAccessLog: {path: /dev/stdout, logFormat: {labels: {}}}
            defaultProviders: {tracing: [otel]}
            """, file: "mesh.yaml")
        #expect(m.providers["envoy"] == .fileAccessLog(path: "/var/log/access.log", encoding: .JSON))
        #expect(m.defaultAccessLogging == ["envoy"])
        #expect(m.defaultTracing == ["otel"])
        #expect(m.sampling == 2.5)
        #expect(m.providers["json"] == .fileAccessLog(path: "/dev/stdout", encoding: .JSON))
        guard case let .openTelemetry(h)? = m.providers["otel-http"] else { Issue.record("otel-http"); return }
        #expect(h.httpPath == "/v1/traces" && h.timeoutNanos == 2_000_000_000 && h.port == 4318)
        guard case let .openTelemetry(g)? = m.providers["otel"] else { Issue.record("otel"); return }
        #expect(g.httpPath == nil && g.service == "collector.observability")
    }

    @Test func meshConfigRefusals() {
        func errors(_ text: String) -> [String] {
            do { _ = try MeshTelemetryConfig.decode(text: text, file: "m.yaml"); return [] } catch {
                return error.diagnostics.map { "\($0.path): \($0.message)" }
            }
        }
        #expect(errors("defaultProviders: {tracing: [nope]}") == ["defaultProviders.tracing: no extension provider is named 'nope'"])
        #expect(errors("extensionProviders: [{name: z, zipkin: {service: z, port: 9411}}]")
            == ["extensionProviders[0].zipkin: provider type 'zipkin' is not supported (use envoyFileAccessLog, opentelemetry or prometheus)"])
        #expect(errors("extensionProviders: [{name: f, envoyFileAccessLog: {path: /x, logFormat: {text: \"%START_TIME%\"}}}]").first?
            .hasPrefix("extensionProviders[0].envoyFileAccessLog.logFormat.text:") == true)
        #expect(errors("defaultConfig: {tracing: {sampling: 101}}") == ["defaultConfig.tracing.sampling: must be between 0 and 100, got 101.0"])
    }

    @Test func providersMustBeTheMeshsOfTheRightKind() throws {
        let mesh = try MeshTelemetryConfig.decode(text: "extensionProviders: [{name: otel, opentelemetry: {service: c, port: 4317}}]", file: "m.yaml")
        let rs = try ResourceDecoder.decode(text: """
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: t, namespace: shop}
            spec:
              accessLogging: [{providers: [{name: envoy}, {name: otel}]}]
              tracing: [{providers: [{name: nope}]}]
              metrics: [{providers: [{name: prometheus}]}]
            """, file: "t.yaml")
        let found = ConfigSetValidator.validate(rs, telemetryProviders: mesh.providerKinds).map { "\($0.path): \($0.message)" }
        #expect(found == [
            "spec.accessLogging[0].providers[1].name: 'otel' is not a access log provider (access log providers: envoy; see weft control --mesh-config)",
            "spec.tracing[0].providers[0].name: no provider is named 'nope' (tracing providers: otel; see weft control --mesh-config)",
        ])
        #expect(ConfigSetValidator.validate(rs).isEmpty, "without the mesh's providers (weft validate) names are not checked")
    }
}

