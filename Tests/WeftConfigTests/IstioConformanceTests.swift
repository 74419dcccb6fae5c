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
        /// Accepted, with a warning at this field (parsed, not applied yet; or advice Istio also gives).
        case warn(path: String)
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

    static func http(_ routes: String, hosts: String = "[reviews]") -> String { vs("  hosts: \(hosts)\n  http:\n" + routes) }

    static func se(_ spec: String) -> String {
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext, namespace: default}\nspec:\n" + spec
    }

    static func sidecar(_ hosts: String) -> String {
        "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: shop}\nspec:\n  egress:\n  - hosts: \(hosts)\n"
    }

    static func gateway(_ hosts: String) -> String {
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: shop}\nspec:\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: \(hosts)\n"
    }

    static func dr2(_ policy: String) -> String { dr("  host: reviews\n  trafficPolicy:\n" + policy) }
    static func gw(_ servers: String, name: String = "gw") -> String {
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: \(name), namespace: shop}\nspec:\n  servers:\n" + servers
    }
    static func sc(_ spec: String) -> String {
        "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: shop}\nspec:\n" + spec
    }

    /// Cases after Istio's validation tests for routes, policies, Sidecars, Gateways and WorkloadGroups.
    static let moreCases: [Case] = [
        Case(name: "gateway name with a bad character", yaml: route("", gateways: "[\"b@dgateway\"]"),
             verdict: .refuse(path: "spec.gateways[0]", containing: "invalid gateway name")),
        Case(name: "gateway name ns/*", yaml: route("", gateways: "[\"ns1/*\"]"),
             verdict: .refuse(path: "spec.gateways[0]", containing: "invalid value for gateway name")),
        Case(name: "tls route without destinations", yaml: vs("  hosts: [foo.bar]\n  gateways: [gw]\n  tls:\n  - match:\n    - sniHosts: [foo.bar]\n"),
             verdict: .refuse(path: "spec.tls[0].route", containing: "TLS route is required")),
        Case(name: "tls SNI host outside the hosts", yaml: vs("  hosts: [foo.bar]\n  gateways: [gw]\n  tls:\n  - match:\n    - sniHosts: [other.bar]\n    route:\n    - destination: {host: foo.bar}\n"),
             verdict: .refuse(path: "spec.tls[0].match[0].sniHosts[0]", containing: "not a compatible subset")),
        Case(name: "tls SNI * under host *", yaml: vs("  hosts: [\"*\"]\n  gateways: [gw]\n  tls:\n  - match:\n    - port: 15012\n      sniHosts: [\"*\"]\n    route:\n    - destination: {host: istiod.istio-system.svc.cluster.local}\n"),
             verdict: .warn(path: "spec.tls")),
        Case(name: "header match with an empty prefix", yaml: http("  - match:\n    - headers: {x-a: {prefix: \"\"}}\n    route:\n    - destination: {host: reviews}\n"),
             verdict: .refuse(path: "spec.http[0].match[0].headers.x-a", containing: "prefix string match should not be empty")),
        Case(name: "uri match with an empty prefix", yaml: http("  - match:\n    - uri: {prefix: \"\"}\n    route:\n    - destination: {host: reviews}\n"), verdict: .accept),
        Case(name: "method match with an empty prefix", yaml: http("  - match:\n    - method: {prefix: \"\"}\n    route:\n    - destination: {host: reviews}\n"),
             verdict: .refuse(path: "spec.http[0].match[0].method", containing: "prefix string match should not be empty")),
        Case(name: "withoutHeaders regex *", yaml: http("  - match:\n    - withoutHeaders: {x-debug: {regex: \"*\"}}\n    route:\n    - destination: {host: reviews}\n"), verdict: .accept),
        Case(name: "header match name with capitals", yaml: http("  - match:\n    - headers: {X-Requested-With: {exact: XMLHttpRequest}}\n    route:\n    - destination: {host: reviews}\n"),
             verdict: .accept),
        Case(name: "header match name with a quote", yaml: http("  - match:\n    - headers: {\"bad\\\"name\": {exact: a}}\n    route:\n    - destination: {host: reviews}\n"),
             verdict: .refuse(path: "spec.http[0].match[0].headers.bad\"name", containing: "not a valid header name")),
        Case(name: "CORS unknown method", yaml: route("    corsPolicy: {allowMethods: [GET, PUTT]}\n"),
             verdict: .refuse(path: "spec.http[0].corsPolicy.allowMethods[1]", containing: "not a supported HTTP method")),
        Case(name: "CORS empty expose header", yaml: route("    corsPolicy: {exposeHeaders: [\"\"]}\n"),
             verdict: .refuse(path: "spec.http[0].corsPolicy.exposeHeaders[0]", containing: "cannot be empty")),
        Case(name: "CORS maxAge in milliseconds", yaml: route("    corsPolicy: {maxAge: 2500ms}\n"),
             verdict: .refuse(path: "spec.http[0].corsPolicy.maxAge", containing: "seconds precision")),
        Case(name: "retryRemoteLocalities with attempts 0", yaml: route("    retries: {attempts: 0, retryRemoteLocalities: true}\n"),
             verdict: .refuse(path: "spec.http[0].retries", containing: "retryRemoteLocalities is set while attempts is 0")),
        Case(name: "rewrite with nothing to rewrite", yaml: route("    rewrite: {}\n"),
             verdict: .refuse(path: "spec.http[0].rewrite", containing: "at least one of uri, uriRegexRewrite and authority")),
        Case(name: "uriRegexRewrite without rewrite", yaml: route("    rewrite: {uriRegexRewrite: {match: \"^/a\"}}\n"),
             verdict: .refuse(path: "spec.http[0].rewrite.uriRegexRewrite", containing: "both match and rewrite")),
        Case(name: "redirect code 0 is unset", yaml: http("  - redirect: {uri: /new, redirectCode: 0}\n"), verdict: .accept),
        Case(name: "header value with a formatted variable", yaml: route("    headers:\n      request:\n        set: {x-end: \"%DOWNSTREAM_PEER_CERT_V_END(%b %d %H:%M:%S %Y %Z)%\"}\n"),
             verdict: .accept),
        Case(name: "wildcard destination host", yaml: http("  - route:\n    - destination: {host: \"*.foo.com\"}\n"), verdict: .accept),
        Case(name: "trafficPolicy {}", yaml: dr("  host: reviews\n  trafficPolicy: {}\n"),
             verdict: .refuse(path: "spec.trafficPolicy", containing: "at least one field")),
        Case(name: "tcp idleTimeout 0s disables it", yaml: dr2("    connectionPool:\n      tcp: {idleTimeout: 0s}\n"), verdict: .accept),
        Case(name: "cookie attributes", yaml: dr2("    loadBalancer:\n      consistentHash:\n        httpCookie: {name: c, ttl: 60s, attributes: [{name: SameSite, value: Strict}]}\n"),
             verdict: .warn(path: "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes")),
        Case(name: "duplicate cookie attribute", yaml: dr2("    loadBalancer:\n      consistentHash:\n        httpCookie: {name: c, ttl: 60s, attributes: [{name: Secure}, {name: Secure}]}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[1].name", containing: "duplicate cookie attribute")),
        Case(name: "locality and zone-aware settings together", yaml: dr2("    loadBalancer:\n      localityLbSetting: {enabled: true}\n      zoneAwareLbSetting: {}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.loadBalancer", containing: "only one of localityLbSetting and zoneAwareLbSetting")),
        Case(name: "zone-aware failover to the same region", yaml: dr2("    loadBalancer:\n      zoneAwareLbSetting: {failover: [{from: r1, to: r1}]}\n    outlierDetection: {}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[0]", containing: "different regions")),
        Case(name: "local origin failures without the split", yaml: dr2("    outlierDetection: {consecutiveLocalOriginFailures: 10}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures", containing: "splitExternalLocalOriginErrors")),
        Case(name: "distribute weight 0", yaml: dr2("    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: r1/z1/*, to: {\"r1/z1/*\": 0, \"r1/z2/*\": 100}}]\n    outlierDetection: {}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to[\"r1/z1/*\"]", containing: "[1, 100]")),
        Case(name: "failover with a region priority label", yaml: dr2("    loadBalancer:\n      localityLbSetting:\n        failover: [{from: r1, to: r2}]\n        failoverPriority: [topology.kubernetes.io/region]\n    outlierDetection: {}\n"),
             verdict: .refuse(path: "spec.trafficPolicy.loadBalancer.localityLbSetting.failoverPriority", containing: "can not simultaneously set 'failover'")),
        Case(name: "warmup aggression under 1", yaml: dr2("    loadBalancer:\n      warmup: {duration: 30s, aggression: {value: 0.5}}\n"),
             verdict: .warn(path: "spec.trafficPolicy.loadBalancer.warmup")),
        Case(name: "SE DNS unix endpoint", yaml: se("  hosts: [api.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n  endpoints: [{address: \"unix:///var/run/a.sock\"}]\n"),
             verdict: .refuse(path: "spec.endpoints[0].address", containing: "not a valid FQDN or an IP address")),
        Case(name: "SE grpc-web port", yaml: se("  hosts: [api.example.com]\n  ports: [{number: 80, name: web, protocol: GRPC-WEB}]\n  resolution: DNS\n"), verdict: .accept),
        Case(name: "WorkloadGroup without template", yaml: "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: g}\nspec:\n  metadata: {labels: {app: a}}\n",
             verdict: .refuse(path: "spec.template", containing: "template is required")),
        Case(name: "WorkloadGroup bad label", yaml: "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: g}\nspec:\n  metadata: {labels: {\".\": \"~\"}}\n  template: {}\n",
             verdict: .refuse(path: "spec.metadata.labels..", containing: "invalid label key")),
        Case(name: "WorkloadGroup probe without a method", yaml: "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: g}\nspec:\n  template: {ports: {http: 80}}\n  probe: {periodSeconds: 5}\n",
             verdict: .refuse(path: "spec.probe", containing: "set one of httpGet, tcpSocket and exec")),
        Case(name: "Sidecar with nothing in it", yaml: sc("  workloadSelector: {labels: {app: a}}\n"),
             verdict: .refuse(path: "spec", containing: "empty configuration")),
        Case(name: "Sidecar two catch-all egress listeners", yaml: sc("  egress:\n  - hosts: [\"*/foo.com\"]\n  - hosts: [\"ns1/bar.com\"]\n"),
             verdict: .refuse(path: "spec.egress[0].port", containing: "should be the last listener")),
        Case(name: "Sidecar ingress without port", yaml: sc("  ingress:\n  - defaultEndpoint: 127.0.0.1:110\n"),
             verdict: .refuse(path: "spec.ingress[0].port", containing: "port is required")),
        Case(name: "Sidecar ingress to another host", yaml: sc("  ingress:\n  - port: {number: 90, protocol: HTTP, name: web}\n    defaultEndpoint: 1.1.1.1:90\n"),
             verdict: .refuse(path: "spec.ingress[0].defaultEndpoint", containing: "must be of form 127.0.0.1")),
        Case(name: "Sidecar ingress ISTIO_MUTUAL", yaml: sc("  ingress:\n  - port: {number: 90, protocol: HTTPS, name: web}\n    defaultEndpoint: 127.0.0.1:9999\n    tls: {mode: ISTIO_MUTUAL}\n"),
             verdict: .refuse(path: "spec.ingress[0].tls.mode", containing: "cannot set mode to ISTIO_MUTUAL")),
        Case(name: "Sidecar egress proxy without ALLOW_ANY", yaml: sc("  outboundTrafficPolicy:\n    egressProxy: {host: foo.bar, port: {number: 5000}}\n"),
             verdict: .refuse(path: "spec.outboundTrafficPolicy.egressProxy", containing: "only with ALLOW_ANY")),
        Case(name: "Gateway duplicate port names", yaml: gw("  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n"),
             verdict: .refuse(path: "spec.servers[1].port.name", containing: "must be unique")),
        Case(name: "Gateway HTTPS without tls", yaml: gw("  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [\"*\"]\n"),
             verdict: .refuse(path: "spec.servers[0].tls", containing: "must have TLS settings")),
        Case(name: "Gateway tls on a TCP port", yaml: gw("  - port: {number: 5000, name: tcp, protocol: TCP}\n    hosts: [\"*\"]\n    tls: {mode: SIMPLE, credentialName: c}\n"),
             verdict: .refuse(path: "spec.servers[0].tls", containing: "non HTTPS/TLS ports")),
        Case(name: "Gateway SIMPLE without certificates", yaml: gw("  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [\"*\"]\n    tls: {mode: SIMPLE}\n"),
             verdict: .refuse(path: "spec.servers[0].tls.serverCertificate", containing: "requires a server certificate")),
        Case(name: "Gateway ISTIO_MUTUAL with a credential", yaml: gw("  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [\"*\"]\n    tls: {mode: ISTIO_MUTUAL, credentialName: c}\n"),
             verdict: .refuse(path: "spec.servers[0].tls.credentialName", containing: "ISTIO_MUTUAL TLS cannot have")),
        Case(name: "Gateway HTTP redirecting to HTTPS", yaml: gw("  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n    tls: {httpsRedirect: true}\n"),
             verdict: .warn(path: "spec")),
        Case(name: "Gateway on a unix socket", yaml: gw("  - port: {number: 0, name: uds, protocol: HTTP}\n    bind: unix:///var/run/gw.sock\n    hosts: [\"*\"]\n"),
             verdict: .warn(path: "spec")),
        Case(name: "Gateway name with a dot", yaml: gw("  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n", name: "gw.v1"),
             verdict: .refuse(path: "metadata.name", containing: "invalid gateway name")),
    ]

    static let cases: [Case] = [
        // Sidecar egress and Gateway server hosts (Istio's ValidateNamespaceSlashWildcardHostname).
        Case(name: "Sidecar import nothing", yaml: sidecar("[\"~/*\"]"), verdict: .warn(path: "spec")),
        Case(name: "Sidecar all except a namespace", yaml: sidecar("[\"*/*\", \"~ns1/*\"]"), verdict: .accept),
        Case(name: "Sidecar all except a host", yaml: sidecar("[\"*/*\", \"~/foo.com\"]"), verdict: .accept),
        Case(name: "Sidecar local namespace fqdn", yaml: sidecar("[\"./foo.com\"]"), verdict: .accept),
        Case(name: "Sidecar exclusion of a bad namespace", yaml: sidecar("[\"*/*\", \"~Invalid_NS/*\"]"),
             verdict: .refuse(path: "spec.egress[0].hosts[1]", containing: "invalid namespace value")),
        Case(name: "Sidecar host without namespace", yaml: sidecar("[\"*\"]"),
             verdict: .refuse(path: "spec.egress[0].hosts[0]", containing: "must be namespace/host")),
        Case(name: "Sidecar short host name", yaml: sidecar("[\"./reviews\"]"),
             verdict: .refuse(path: "spec.egress[0].hosts[0]", containing: "short names")),
        Case(name: "Sidecar partial wildcard", yaml: sidecar("[\"*/*foo.com\"]"),
             verdict: .refuse(path: "spec.egress[0].hosts[0]", containing: "partial wildcard")),
        Case(name: "Gateway bare wildcard host", yaml: gateway("[\"*.example.com\"]"), verdict: .warn(path: "spec")),
        Case(name: "Gateway namespaced host", yaml: gateway("[\"ns1/*\"]"), verdict: .accept),
        Case(name: "Gateway ~ namespace", yaml: gateway("[\"~/foo.com\"]"),
             verdict: .refuse(path: "spec.servers[0].hosts[0]", containing: "invalid namespace value")),
        // ServiceEntry (Istio's ValidateServiceEntry).
        Case(name: "SE without ports", yaml: se("  hosts: [api.example.com]\n  resolution: DNS\n"), verdict: .accept),
        Case(name: "SE STATIC without endpoints or selector", yaml: se("  hosts: [api.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n"),
             verdict: .accept),
        Case(name: "SE partial wildcard host", yaml: se("  hosts: [\"*example.com\"]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n"),
             verdict: .warn(path: "spec.hosts[0]")),
        Case(name: "SE wildcard with DNS and endpoints", yaml: se("  hosts: [\"*.example.com\"]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n  endpoints:\n  - address: proxy.example.com\n"),
             verdict: .accept),
        Case(name: "SE wildcard with DNS and no endpoints", yaml: se("  hosts: [\"*.example.com\"]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n"),
             verdict: .refuse(path: "spec.hosts[0]", containing: "must be FQDN")),
        Case(name: "SE host *", yaml: se("  hosts: [\"*\"]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n"),
             verdict: .refuse(path: "spec.hosts[0]", containing: "not allowed")),
        Case(name: "SE DYNAMIC_DNS", yaml: se("  hosts: [\"*.example.com\"]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  resolution: DYNAMIC_DNS\n"),
             verdict: .warn(path: "spec.resolution")),
        Case(name: "SE DYNAMIC_DNS plain host", yaml: se("  hosts: [api.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DYNAMIC_DNS\n"),
             verdict: .refuse(path: "spec.hosts[0]", containing: "must be wildcarded")),
        Case(name: "SE DYNAMIC_DNS tcp port", yaml: se("  hosts: [\"*.example.com\"]\n  ports: [{number: 5432, name: tcp, protocol: TCP}]\n  resolution: DYNAMIC_DNS\n"),
             verdict: .refuse(path: "spec.ports[0].protocol", containing: "only HTTP, TLS, GRPC, and HTTP2")),
        Case(name: "SE DNS_ROUND_ROBIN two endpoints", yaml: se("  hosts: [api.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS_ROUND_ROBIN\n  endpoints: [{address: a.example.com}, {address: b.example.com}]\n"),
             verdict: .refuse(path: "spec.endpoints", containing: "0 or 1 endpoint")),
        Case(name: "SE CIDR with DNS", yaml: se("  hosts: [api.example.com]\n  addresses: [10.0.0.0/16]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n"),
             verdict: .refuse(path: "spec.addresses", containing: "CIDR")),
        Case(name: "SE two hosts on a TCP port", yaml: se("  hosts: [a.example.com, b.example.com]\n  ports: [{number: 5432, name: tcp, protocol: TCP}]\n  resolution: DNS\n"),
             verdict: .refuse(path: "spec.ports[0].protocol", containing: "multiple hosts")),
        Case(name: "SE two hosts on an HTTP port", yaml: se("  hosts: [a.example.com, b.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n"),
             verdict: .accept),
        Case(name: "SE port name not DNS-1123", yaml: se("  hosts: [api.example.com]\n  ports: [{number: 80, name: Http_1, protocol: HTTP}]\n"),
             verdict: .refuse(path: "spec.ports[0].name", containing: "invalid port name")),
        Case(name: "SE endpoint without address", yaml: se("  hosts: [api.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{labels: {app: a}}]\n"),
             verdict: .refuse(path: "spec.endpoints[0].address", containing: "missing required field")),
        Case(name: "SE unix endpoint with two ports", yaml: se("  hosts: [api.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}, {number: 81, name: http2, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{address: \"unix:///var/run/a.sock\"}]\n"),
             verdict: .refuse(path: "spec.endpoints[0].address", containing: "exactly 1 service port")),
        Case(name: "SE IPv6 addresses in a flow sequence", yaml: se("  hosts: [api.example.com]\n  addresses: [2001:db8::1, 001:db8::]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{address: \"2001:db8::2\"}]\n"),
             verdict: .accept),
        // WorkloadEntry without an address.
        Case(name: "WE network without address", yaml: we("  network: vm-net\n  labels: {app: a}\n"), verdict: .warn(path: "spec.address")),
        Case(name: "WE neither address nor network", yaml: we("  labels: {app: a}\n"),
             verdict: .refuse(path: "spec.address", containing: "missing required field")),
        // Delegation (Istio's validateHTTPRouteConflict and the delegate rules of ValidateVirtualService).
        Case(name: "delegate VS without hosts", yaml: vs("  http:\n  - match:\n    - uri: {prefix: /productpage/v1}\n    route:\n    - destination: {host: reviews}\n"),
             verdict: .accept),
        Case(name: "root route naming a delegate", yaml: http("  - match:\n    - uri: {prefix: /productpage}\n    delegate: {name: productpage, namespace: nsA}\n"),
             verdict: .accept),
        Case(name: "root route with delegate and route", yaml: http("  - delegate: {name: productpage}\n    route:\n    - destination: {host: reviews}\n"),
             verdict: .refuse(path: "spec.http[0].route", containing: "must not also set route")),
        Case(name: "root route with delegate and redirect", yaml: http("  - delegate: {name: productpage}\n    redirect: {uri: /x}\n"),
             verdict: .refuse(path: "spec.http[0].redirect", containing: "must not also set redirect")),
        Case(name: "delegate VS route delegating again", yaml: vs("  http:\n  - delegate: {name: other}\n"),
             verdict: .refuse(path: "spec.http[0].delegate", containing: "cannot delegate again")),
        Case(name: "delegate VS with gateways", yaml: vs("  gateways: [ingress]\n  http:\n  - route:\n    - destination: {host: reviews}\n"),
             verdict: .refuse(path: "spec.gateways", containing: "must not name gateways")),
        Case(name: "delegate VS with tcp routes", yaml: vs("  tcp:\n  - route:\n    - destination: {host: reviews}\n"),
             verdict: .refuse(path: "spec.tcp", containing: "must not have tcp routes")),
        // Mirrors.
        Case(name: "two mirrors", yaml: route("    mirrors:\n    - destination: {host: reviews, subset: v2}\n      percentage: {value: 50}\n    - destination: {host: ratings}\n"),
             verdict: .accept),
        Case(name: "mirror and mirrors", yaml: route("    mirror: {host: ratings}\n    mirrors:\n    - destination: {host: reviews}\n"),
             verdict: .refuse(path: "spec.http[0].mirrors", containing: "only one of mirror and mirrors")),
        Case(name: "mirrors percentage over 100", yaml: route("    mirrors:\n    - destination: {host: reviews}\n      percentage: {value: 101}\n"),
             verdict: .refuse(path: "spec.http[0].mirrors[0].percentage.value", containing: "between 0 and 100")),
        Case(name: "mirrors without destination", yaml: route("    mirrors:\n    - percentage: {value: 10}\n"),
             verdict: .refuse(path: "spec.http[0].mirrors[0].destination", containing: "missing required field")),
        // Redirects and direct responses.
        Case(name: "redirect prefixRewrite", yaml: http("  - match:\n    - uri: {prefix: /old}\n    redirect: {prefixRewrite: /new}\n"), verdict: .accept),
        Case(name: "redirect prefixRewrite with an exact match", yaml: http("  - match:\n    - uri: {exact: /old}\n    redirect: {prefixRewrite: /new}\n"),
             verdict: .refuse(path: "spec.http[0].match[0].uri", containing: "prefix match")),
        Case(name: "redirect uri and prefixRewrite", yaml: http("  - redirect: {uri: /a, prefixRewrite: /b}\n"),
             verdict: .refuse(path: "spec.http[0].redirect", containing: "only one of uri and prefixRewrite")),
        Case(name: "redirect with nothing to change", yaml: http("  - redirect: {redirectCode: 302}\n"),
             verdict: .refuse(path: "spec.http[0].redirect", containing: "set uri, prefixRewrite, authority, scheme or port")),
        Case(name: "redirect with a fault", yaml: http("  - redirect: {uri: /a}\n    fault: {abort: {httpStatus: 500}}\n"),
             verdict: .refuse(path: "spec.http[0].fault", containing: "cannot also inject faults")),
        Case(name: "directResponse body bytes", yaml: http("  - directResponse:\n      status: 503\n      body: {bytes: aGVsbG8=}\n"), verdict: .accept),
        Case(name: "directResponse body bytes not base64", yaml: http("  - directResponse:\n      status: 503\n      body: {bytes: \"not base64!\"}\n"),
             verdict: .refuse(path: "spec.http[0].directResponse.body.bytes", containing: "base64")),
        Case(name: "directResponse with a rewrite", yaml: http("  - directResponse: {status: 200}\n    rewrite: {uri: /x}\n"),
             verdict: .refuse(path: "spec.http[0].rewrite", containing: "cannot also rewrite")),
        // Accepted but not applied yet: `weft validate` warns.
        Case(name: "tls routes warn", yaml: vs("  hosts: [\"*.bookinfo.com\"]\n  gateways: [gw]\n  tls:\n  - match:\n    - sniHosts: [login.bookinfo.com]\n    route:\n    - destination: {host: login}\n"),
             verdict: .warn(path: "spec.tls")),
        Case(name: "retryRemoteLocalities warns", yaml: route("    retries: {attempts: 2, retryRemoteLocalities: true}\n"),
             verdict: .warn(path: "spec.http[0].retries.retryRemoteLocalities")),
        Case(name: "redirect derivePort warns", yaml: http("  - redirect: {scheme: https, derivePort: FROM_PROTOCOL_DEFAULT}\n"),
             verdict: .warn(path: "spec.http[0].redirect.derivePort")),
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

    @Test(arguments: cases + moreCases)
    func istiosVerdict(_ c: Case) {
        let found = problems(c.yaml)
        switch c.verdict {
        case .accept:
            #expect(found.isEmpty, "Istio accepts this; Weft said: \(found.map(\.description))")
        case let .warn(path):
            #expect(found.isEmpty, "Istio accepts this; Weft said: \(found.map(\.description))")
            let warnings = (try? ResourceDecoder.decode(text: c.yaml, file: "in.yaml"))?.flatMap(\.warnings) ?? []
            #expect(warnings.contains { $0.path == path }, "expected a warning at \(path); got \(warnings.map(\.description))")
        case let .refuse(path, words):
            #expect(found.contains { $0.path == path && $0.message.contains(words) },
                    "Istio refuses this at \(path) (\(words)); Weft said: \(found.map(\.description))")
        }
    }
}
