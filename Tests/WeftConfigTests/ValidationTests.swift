import Testing
import WeftConfig
import WeftCore

/// Wraps a VirtualService spec body in a document.
func vs(_ spec: String, name: String = "reviews") -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata:
      name: \(name)
      namespace: default
    spec:
    \(spec)
    """
}

func dr(_ spec: String) -> String {
    """
    apiVersion: networking.istio.io/v1beta1
    kind: DestinationRule
    metadata:
      name: reviews
    spec:
    \(spec)
    """
}

func problems(_ text: String, file: String = "in.yaml") -> [Diagnostic] {
    do {
        _ = try ResourceDecoder.decode(text: text, file: file)
        return []
    } catch {
        return error.diagnostics
    }
}

struct BadCase: CustomTestStringConvertible, Sendable {
    var text: String
    var path: String
    var message: String
    var testDescription: String { "\(path): \(message)" }
}

@Suite struct ValidationTests {
    static let bad: [BadCase] = [
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: 150\n    - destination: {host: reviews, subset: v2}\n      weight: -50"),
                path: "spec.http[0].route[1].weight", message: "weight must not be negative, got -50"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: 0\n    - destination: {host: reviews, subset: v2}\n      weight: 0"),
                path: "spec.http[0].route", message: "total destination weight is 0"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - match:\n    - uri: {regex: \"(?=x)a\"}\n    route:\n    - destination: {host: reviews}"),
                path: "spec.http[0].match[0].uri.regex", message: "invalid RE2 regex '(?=x)a': look-ahead is not supported by RE2"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - match:\n    - uri: {regex: \"a(b\"}\n    route:\n    - destination: {host: reviews}"),
                path: "spec.http[0].match[0].uri.regex", message: "invalid RE2 regex 'a(b': it does not compile"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n    fault:\n      abort: {httpStatus: 503, percentage: {value: -5}}"),
                path: "spec.http[0].fault.abort.percentage.value", message: "percentage must be between 0 and 100, got -5.0"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n    timeout: soon"),
                path: "spec.http[0].timeout", message: "'soon' is not a duration (for example 1s, 500ms, 1m)"),
        // Issue 10: a duration beyond Int64 nanoseconds once trapped the control plane (SIGILL); now a field error.
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n    timeout: 99999999h"),
                path: "spec.http[0].timeout", message: "'99999999h' is too long (at most 2562047h, about 292 years)"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n    timeout: 1e999s"),
                path: "spec.http[0].timeout", message: "'1e999s' is not a duration (for example 1s, 500ms, 1m)"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n    timeout: 99999999999999999999999999999999999999999999999s"),
                path: "spec.http[0].timeout", message: "'99999999999999999999999999999999999999999999999s' is too long (at most 2562047h, about 292 years)"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n    retries: {attempts: 3, retryOn: \"5xx,sometimes\"}"),
                path: "spec.http[0].retries.retryOn", message: "'sometimes' is not a retry condition (for example 5xx, gateway-error, connect-failure, reset, retriable-4xx)"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n      wieght: 10"),
                path: "spec.http[0].route[0].wieght", message: "unknown field 'wieght'"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - route:\n    - weight: 100"),
                path: "spec.http[0].route[0].destination", message: "missing required field"),
        BadCase(text: vs("  hosts: [reviews]\n  http:\n  - name: a\n    route:\n    - destination: {host: reviews}\n  - name: a\n    route:\n    - destination: {host: reviews}"),
                path: "spec.http[1].name", message: "duplicate route name 'a'"),
        BadCase(text: vs("  gateways: [ingress]\n  http:\n  - route:\n    - destination: {host: reviews}"),
                path: "spec.gateways", message: "a delegate VirtualService (no hosts) must not name gateways"),
        BadCase(text: dr("  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n  - name: v1\n    labels: {version: v2}"),
                path: "spec.subsets[1].name", message: "duplicate subset name 'v1'"),
        BadCase(text: dr("  host: reviews\n  trafficPolicy:\n    loadBalancer: {simple: FASTEST}"),
                path: "spec.trafficPolicy.loadBalancer.simple", message: "'FASTEST' is not one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST"),
        BadCase(text: dr("  host: reviews\n  trafficPolicy:\n    outlierDetection: {baseEjectionTime: 0s}"),
                path: "spec.trafficPolicy.outlierDetection.baseEjectionTime", message: "duration must be at least 1ms"),
        BadCase(text: dr("  host: reviews\n  trafficPolicy:\n    outlierDetection: {maxEjectionPercent: 120}"),
                path: "spec.trafficPolicy.outlierDetection.maxEjectionPercent", message: "percentage must be between 0 and 100, got 120.0"),
        BadCase(text: dr("  host: reviews\n  trafficPolicy:\n    retryBudget: {percent: {value: 150}, minRetryConcurrency: -1}"),
                path: "spec.trafficPolicy.retryBudget.percent.value", message: "percentage must be between 0 and 100, got 150.0"),
        BadCase(text: dr("  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http: {http1MaxPendingRequests: 0}"),
                path: "spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests", message: "must be greater than 0, got 0"),
        BadCase(text: dr("  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {httpHeaderName: x-user, useSourceIp: true}"),
                path: "spec.trafficPolicy.loadBalancer.consistentHash", message: "set exactly one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db}\nspec:\n  hosts: [db.example.com]\n  ports: [{number: 70000, name: tcp, protocol: TCP}]\n  resolution: DNS",
                path: "spec.ports[0].number", message: "port must be between 1 and 65535, got 70000"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db}\nspec:\n  hosts: [db.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{address: db.internal}]",
                path: "spec.endpoints[0].address", message: "'db.internal' must be an IP address when resolution is STATIC"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: vm1}\nspec:\n  address: 10.0.0.1\n  locality: us//a",
                path: "spec.locality", message: "'us//a' must be region, region/zone or region/zone/subzone"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default}\nspec:\n  egress:\n  - hosts: [\"a/b/c\"]",
                path: "spec.egress[0].hosts[0]", message: "short names (non FQDN) are not allowed: 'b/c'"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}",
                path: "spec.servers[0].hosts", message: "server config must contain at least one host"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: WasmPlugin\nmetadata: {name: t}\nspec: {}",
                path: "kind", message: "unknown kind 'WasmPlugin' (supported: VirtualService, DestinationRule, ServiceEntry, WorkloadEntry, WorkloadGroup, Sidecar, Gateway, RateLimit, PeerAuthentication, AuthorizationPolicy, RequestAuthentication, Telemetry)"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: Telemetry\nmetadata: {name: t}\nspec: {}",
                path: "apiVersion", message: "'networking.istio.io/v1' is not supported for Telemetry (use telemetry.istio.io/v1 or v1alpha1)"),
        BadCase(text: "apiVersion: networking.istio.io/v2\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  servers: []",
                path: "apiVersion", message: "'networking.istio.io/v2' is not supported (use networking.istio.io/v1, v1beta1 or v1alpha3)"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\n  annotations:\n    health.weft.dev/type: http\n    health.weft.dev/interval: fast\nspec:\n  host: reviews",
                path: "metadata.annotations[\"health.weft.dev/interval\"]", message: "'fast' is not a duration of at least 1ms (for example 1s, 500ms)"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\n  annotations:\n    health.weft.dev/type: http\n    health.weft.dev/interval: 9999999999h\nspec:\n  host: reviews",
                path: "metadata.annotations[\"health.weft.dev/interval\"]", message: "'9999999999h' is too long (at most 2562047h, about 292 years)"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\n  annotations:\n    health.weft.dev/type: udp\nspec:\n  host: reviews",
                path: "metadata.annotations[\"health.weft.dev/type\"]", message: "'udp' is not one of http, tcp, grpc"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\n  annotations:\n    health.weft.dev/type: http\n    health.weft.dev/interval: 1s\n    health.weft.dev/timeout: 2s\nspec:\n  host: reviews",
                path: "metadata.annotations[\"health.weft.dev/timeout\"]", message: "must not be longer than the interval"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\n  annotations:\n    health.weft.dev/type: tcp\n    health.weft.dev/unhealthy-threshold: \"0\"\nspec:\n  host: reviews",
                path: "metadata.annotations[\"health.weft.dev/unhealthy-threshold\"]", message: "'0' must be a whole number of at least 1"),
        BadCase(text: dr("  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: us/*\n          to: {\"us/a/*\": 70, \"us/b/*\": 20}"),
                path: "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to", message: "weights must add up to 100, got 90"),
        BadCase(text: dr("  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        failover:\n        - {from: us/east, to: eu}"),
                path: "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0].from", message: "'us/east' must be a region name"),
        BadCase(text: "apiVersion: policy.weft.dev/v1alpha1\nkind: RateLimit\nmetadata: {name: rl}\nspec:\n  host: reviews\n  tokenBucket: {maxTokens: 5, fillInterval: 10ms}",
                path: "spec.tokenBucket.fillInterval", message: "must be at least 50ms"),
        BadCase(text: "apiVersion: policy.weft.dev/v1alpha1\nkind: RateLimit\nmetadata: {name: rl}\nspec:\n  host: reviews\n  tokenBucket: {maxTokens: 0, tokensPerFill: 1, fillInterval: 1s}",
                path: "spec.tokenBucket.maxTokens", message: "must be greater than 0, got 0"),
        BadCase(text: "apiVersion: policy.weft.dev/v1alpha1\nkind: RateLimit\nmetadata: {name: rl}\nspec:\n  host: reviews\n  workloadSelector: {labels: {app: reviews}}\n  tokenBucket: {maxTokens: 5, fillInterval: 1s}",
                path: "spec.workloadSelector", message: "set only one of host and workloadSelector"),
        BadCase(text: "apiVersion: networking.istio.io/v1\nkind: RateLimit\nmetadata: {name: rl}\nspec:\n  host: reviews\n  tokenBucket: {maxTokens: 5, fillInterval: 1s}",
                path: "apiVersion", message: "'networking.istio.io/v1' is not supported for RateLimit (use policy.weft.dev/v1alpha1)"),
    ]

    @Test(arguments: bad)
    func refusesBadInputWithPathAndMessage(_ c: BadCase) {
        let found = problems(c.text)
        #expect(found.contains { $0.path == c.path && $0.message == c.message && $0.file == "in.yaml" },
                "got: \(found.map(\.description))")
    }

    @Test func diagnosticNamesFileResourceAndField() {
        let found = problems(vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n      weight: -1"), file: "bad.yaml")
        #expect(found.map(\.description) == ["bad.yaml: VirtualService default/reviews: spec.http[0].route[0].weight: weight must not be negative, got -1"])
    }

    @Test func brokenYAMLNamesTheFile() {
        let found = problems("kind: VirtualService\nmetadata: {name: x\nspec: [\n", file: "broken.yml")
        #expect(found.count == 1)
        #expect(found.first?.file == "broken.yml")
        #expect(found.first?.message.hasPrefix("not valid YAML or JSON") == true)
    }

    @Test func oneBadDocumentRefusesTheWholeFile() {
        let good = vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}")
        let bad = vs("  hosts: [ratings]\n  http:\n  - route:\n    - destination: {host: ratings}\n      weight: -500", name: "ratings")
        #expect(throws: DiagnosticError.self) { try ResourceDecoder.decode(text: good + "\n---\n" + bad, file: "x.yaml") }
    }
}

@Suite struct PeerAuthenticationValidationTests {
    func problems(_ spec: String, apiVersion: String = "security.istio.io/v1") -> [String] {
        let doc = "apiVersion: \(apiVersion)\nkind: PeerAuthentication\nmetadata: {name: p, namespace: shop}\nspec: \(spec)\n"
        do { _ = try ResourceDecoder.decode(text: doc, file: "pa.yaml"); return [] } catch {
            return error.diagnostics.map { "\($0.path): \($0.message)" }
        }
    }

    @Test func acceptsIstioShapes() {
        #expect(problems("{mtls: {mode: STRICT}}") == [])
        #expect(problems("{}", apiVersion: "security.istio.io/v1beta1") == [])
        #expect(problems("{selector: {matchLabels: {app: a}}, mtls: {mode: PERMISSIVE}, portLevelMtls: {8080: {mode: DISABLE}}}") == [])
    }

    @Test func refusesWhatIstioRefuses() {
        #expect(problems("{portLevelMtls: {8080: {mode: DISABLE}}}").first?.hasPrefix("spec.portLevelMtls: mesh/namespace peer authentication cannot have port level mTLS") == true)
        #expect(problems("{selector: {matchLabels: {app: a}}, portLevelMtls: {0: {mode: STRICT}}}") == ["spec.portLevelMtls.0: port '0' must be a number in the range 1..65535"])
        #expect(problems("{mtls: {mode: STRIKT}}") == ["spec.mtls.mode: 'STRIKT' is not one of UNSET, DISABLE, PERMISSIVE, STRICT"])
        #expect(problems("{mtls: {mode: STRICT}}", apiVersion: "networking.istio.io/v1").first?.contains("not supported for PeerAuthentication") == true)
        #expect(problems("{selector: {matchLabels: {'bad key!': a}}}").count == 1)
    }
}
