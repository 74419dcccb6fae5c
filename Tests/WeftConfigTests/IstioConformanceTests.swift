import Testing
import WeftConfig
import WeftCore

/// Weft's conformance corpus: resources written for these tests after the cases of Istio's own validation
/// tests (pkg/config/validation) and the examples of its API reference, each with Istio's verdict. A case that
/// Istio accepts must be accepted; a case it refuses must be refused at the field Istio names. Extend it with
/// every difference found (issue 11); a regression fails `swift test`.
@Suite struct IstioConformanceTests {
    enum Verdict: Sendable {
        case accept
        /// Refused: the diagnostic's field path, and words its message must contain.
        case refuse(path: String, containing: String)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var verdict: Verdict
        var testDescription: String { name }
    }

    static func route(_ extra: String, hosts: String = "[reviews]", gateways: String? = nil) -> String {
        vs("  hosts: \(hosts)\n" + (gateways.map { "  gateways: \($0)\n" } ?? "") + "  http:\n  - route:\n    - destination: {host: reviews}\n" + extra)
    }

    static func we(_ spec: String) -> String {
        "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: vm-1, namespace: default}\nspec:\n" + spec
    }

    static func pool(_ body: String) -> String { dr("  host: reviews\n  trafficPolicy:\n    connectionPool:\n" + body) }

    static let cases: [Case] = [
        // Weights: none negative, not all 0; Istio normalises totals other than 100.
        Case(name: "weights 70 and 20", yaml: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: 70\n    - destination: {host: reviews, subset: v2}\n      weight: 20\n"),
             verdict: .accept),
        Case(name: "weight 150 alone", yaml: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n      weight: 150\n"), verdict: .accept),
        Case(name: "negative weight", yaml: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: 50\n    - destination: {host: reviews, subset: v2}\n      weight: -5\n"),
             verdict: .refuse(path: "spec.http[0].route[1].weight", containing: "must not be negative")),
        Case(name: "all weights 0", yaml: vs("  hosts: [reviews]\n  tcp:\n  - route:\n    - destination: {host: reviews, subset: v1}\n    - destination: {host: reviews, subset: v2}\n"),
             verdict: .refuse(path: "spec.tcp[0].route", containing: "total destination weight is 0")),
        // Kinds of routes and fields Istio accepts that Weft parses without applying yet (docs/istio-support.md).
        Case(name: "VS with only tls routes", yaml: vs("  hosts: [\"*.bookinfo.com\"]\n  gateways: [gw]\n  tls:\n  - match:\n    - port: 443\n      sniHosts: [login.bookinfo.com]\n    route:\n    - destination: {host: login.prod.svc.cluster.local}\n"),
             verdict: .accept),
        Case(name: "VS with no routes at all", yaml: vs("  hosts: [reviews]\n"), verdict: .refuse(path: "spec", containing: "at least one http, tcp or tls route")),
        Case(name: "mirrorPercent (deprecated)", yaml: route("    mirror: {host: reviews, subset: v2}\n    mirrorPercent: 50\n"), verdict: .accept),
        Case(name: "loadBalancer.warmup", yaml: dr("  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      simple: ROUND_ROBIN\n      warmup: {duration: 60s, minimumPercent: {value: 10}, aggression: {value: 1.5}}\n"),
             verdict: .accept),
        Case(name: "loadBalancer.warmup without duration", yaml: dr("  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      warmup: {aggression: {value: 2}}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.loadBalancer.warmup.duration", containing: "missing required field")),
        Case(name: "loadBalancer.zoneAwareLbSetting", yaml: dr("  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      simple: LEAST_REQUEST\n      zoneAwareLbSetting: {}\n"),
             verdict: .accept),
        Case(name: "Sidecar inboundConnectionPool", yaml: "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: shop}\nspec:\n  inboundConnectionPool:\n    http: {http1MaxPendingRequests: 1024, idleTimeout: 5s}\n",
             verdict: .accept),
        Case(name: "Sidecar inboundConnectionPool empty", yaml: "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: shop}\nspec:\n  inboundConnectionPool: {}\n",
             verdict: .refuse(path: "spec.inboundConnectionPool", containing: "at least one field")),
        // WorkloadEntry addresses and port names (Istio's ValidateUnixAddress and ValidatePortName).
        Case(name: "WE unix socket", yaml: we("  address: unix:///var/run/app.sock\n  labels: {app: a}\n"), verdict: .accept),
        Case(name: "WE abstract unix socket", yaml: we("  address: unix://@app\n"), verdict: .accept),
        Case(name: "WE relative unix path", yaml: we("  address: unix://var/run/app.sock\n"),
             verdict: .refuse(path: "spec.address", containing: "not an absolute path")),
        Case(name: "WE unix path to a folder", yaml: we("  address: unix:///var/run/\n"),
             verdict: .refuse(path: "spec.address", containing: "not an absolute path")),
        Case(name: "WE unix socket with ports", yaml: we("  address: unix:///var/run/app.sock\n  ports: {http: 8080}\n"),
             verdict: .refuse(path: "spec.ports", containing: "must not include ports")),
        Case(name: "WE port name upper case", yaml: we("  address: 10.0.0.1\n  ports: {HTTP: 8080}\n"),
             verdict: .refuse(path: "spec.ports.HTTP", containing: "invalid port name")),
        Case(name: "WE port name with underscore", yaml: we("  address: 10.0.0.1\n  ports: {http_web: 8080}\n"),
             verdict: .refuse(path: "spec.ports.http_web", containing: "invalid port name")),
        Case(name: "WE port name http-web", yaml: we("  address: 10.0.0.1\n  ports: {http-web: 8080}\n"), verdict: .accept),
        // Durations (Istio's agent.ValidateDuration: at least 1ms, whole milliseconds).
        Case(name: "VS timeout 1ms", yaml: route("    timeout: 1ms\n"), verdict: .accept),
        Case(name: "VS timeout 100us", yaml: route("    timeout: 100us\n"), verdict: .refuse(path: "spec.http[0].timeout", containing: "at least 1ms")),
        Case(name: "VS timeout 1.5ms", yaml: route("    timeout: 1.5ms\n"), verdict: .refuse(path: "spec.http[0].timeout", containing: "ms precision")),
        Case(name: "VS perTryTimeout 2500us", yaml: route("    retries: {attempts: 2, perTryTimeout: 2500us}\n"),
             verdict: .refuse(path: "spec.http[0].retries.perTryTimeout", containing: "ms precision")),
        Case(name: "DR connectTimeout 1.5ms", yaml: pool("      tcp: {connectTimeout: 1.5ms}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.connectionPool.tcp.connectTimeout", containing: "ms precision")),
        // Retries.
        Case(name: "retries attempts 0 alone", yaml: route("    retries: {attempts: 0}\n"), verdict: .accept),
        Case(name: "retries attempts 0 with retryOn", yaml: route("    retries: {attempts: 0, retryOn: 5xx}\n"),
             verdict: .refuse(path: "spec.http[0].retries", containing: "attempts is 0")),
        Case(name: "retries retryOn without attempts", yaml: route("    retries: {retryOn: 5xx, perTryTimeout: 2s}\n"),
             verdict: .refuse(path: "spec.http[0].retries", containing: "attempts is 0")),
        Case(name: "retries attempts 3 with retryOn", yaml: route("    retries: {attempts: 3, retryOn: \"5xx,connect-failure\"}\n"), verdict: .accept),
        // Header operations.
        Case(name: ":authority set alone", yaml: route("    headers:\n      request:\n        set: {\":authority\": foo.example.com}\n"), verdict: .accept),
        Case(name: ":authority set with rewrite.authority",
             yaml: route("    rewrite: {authority: bar.example.com}\n    headers:\n      request:\n        set: {\":authority\": foo.example.com}\n"),
             verdict: .refuse(path: "spec.http[0].headers.request.set.:authority", containing: "authority is set more than once")),
        Case(name: "other pseudo-header set", yaml: route("    headers:\n      request:\n        set: {\":path\": /x}\n"),
             verdict: .refuse(path: "spec.http[0].headers.request.set.:path", containing: "':' prefix")),
        Case(name: "empty header name", yaml: route("    headers:\n      request:\n        set: {\"\": v}\n"),
             verdict: .refuse(path: "spec.http[0].headers.request.set", containing: "header name cannot be empty")),
        Case(name: "Host removed", yaml: route("    headers:\n      request:\n        remove: [host]\n"),
             verdict: .refuse(path: "spec.http[0].headers.request.remove.host", containing: "Host header")),
        Case(name: "Envoy variable in a value", yaml: route("    headers:\n      response:\n        set: {x-start: \"%START_TIME%\", x-pct: \"100%%\"}\n"), verdict: .accept),
        Case(name: "un-escaped % at the end", yaml: route("    headers:\n      response:\n        set: {x-pct: \"100%\"}\n"),
             verdict: .refuse(path: "spec.http[0].headers.response.set.x-pct", containing: "un-escaped '%'")),
        Case(name: "unterminated variable", yaml: route("    headers:\n      request:\n        add: {x-v: \"abc%123\"}\n"),
             verdict: .refuse(path: "spec.http[0].headers.request.add.x-v", containing: "unterminated variable")),
        Case(name: "destination-level bad value", yaml: vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n      headers:\n        response:\n          add: {x-a: \"50%\"}\n"),
             verdict: .refuse(path: "spec.http[0].route[0].headers.response.add.x-a", containing: "un-escaped")),
        // JWT claim matches need a gateway.
        Case(name: "claim match on a gateway", yaml: vs("  hosts: [reviews]\n  gateways: [ingress]\n  http:\n  - match:\n    - headers:\n        \"@request.auth.claims.group\": {exact: admin}\n    route:\n    - destination: {host: reviews}\n"),
             verdict: .accept),
        Case(name: "claim match on the mesh", yaml: vs("  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        \"@request.auth.claims.group\": {exact: admin}\n    route:\n    - destination: {host: reviews}\n"),
             verdict: .refuse(path: "spec.http[0].match[0].headers.@request.auth.claims.group", containing: "only supported for gateways")),
        // Hosts of one VirtualService must not match each other.
        Case(name: "distinct wildcard hosts", yaml: route("", hosts: "[\"*.foo.com\", \"*.bar.com\"]"), verdict: .accept),
        Case(name: "overlapping wildcard hosts", yaml: route("", hosts: "[\"*.example.com\", \"*.foo.example.com\"]"),
             verdict: .refuse(path: "spec.hosts[1]", containing: "duplicate hosts in virtual service")),
        Case(name: "duplicate hosts", yaml: route("", hosts: "[reviews, reviews]"),
             verdict: .refuse(path: "spec.hosts[1]", containing: "duplicate hosts")),
        // DestinationRule connection pool and TLS.
        Case(name: "empty connection pool", yaml: dr("  host: reviews\n  trafficPolicy:\n    connectionPool: {}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.connectionPool", containing: "at least one field")),
        Case(name: "UPGRADE with useClientProtocol", yaml: pool("      http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.connectionPool.http.useClientProtocol", containing: "UPGRADE")),
        Case(name: "http2KeepAlive", yaml: pool("      http: {http2KeepAlive: {interval: 30s, timeout: 5s}}\n"), verdict: .accept),
        Case(name: "http2KeepAlive without timeout", yaml: pool("      http: {http2KeepAlive: {interval: 30s}}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.connectionPool.http.http2KeepAlive.timeout", containing: "required")),
        Case(name: "SIMPLE TLS insecureSkipVerify alone", yaml: dr("  host: reviews\n  trafficPolicy:\n    tls: {mode: SIMPLE, insecureSkipVerify: true}\n"), verdict: .accept),
        Case(name: "SIMPLE TLS insecureSkipVerify with credentialName",
             yaml: dr("  host: reviews\n  trafficPolicy:\n    tls: {mode: SIMPLE, insecureSkipVerify: true, credentialName: cred}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.tls.insecureSkipVerify", containing: "insecureSkipVerify is true")),
        Case(name: "credentialName with a CA certificate",
             yaml: dr("  host: reviews\n  trafficPolicy:\n    tls: {mode: SIMPLE, credentialName: cred, caCertificates: /etc/ca.pem}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.tls.credentialName", containing: "credentialName is set")),
    ]

    @Test(arguments: cases)
    func istiosVerdict(_ c: Case) {
        let found = problems(c.yaml)
        switch c.verdict {
        case .accept:
            #expect(found.isEmpty, "Istio accepts this; Weft said: \(found.map(\.description))")
        case let .refuse(path, words):
            #expect(found.contains { $0.path == path && $0.message.contains(words) },
                    "Istio refuses this at \(path) (\(words)); Weft said: \(found.map(\.description))")
        }
    }
}
