import EnvoyAPI
import SwiftProtobuf
import Testing
import WeftConfig
import WeftCore
import WeftModel
import XDSTranslation

/// Health checks, locality priorities per calling proxy, and local rate limits in the translation.
@Suite struct ResilienceTranslationTests {
    static let mesh = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: api}
    spec:
      hosts: [api.default.svc.cluster.local]
      ports: [{number: 80, name: http, protocol: HTTP}]
      resolution: STATIC
      workloadSelector: {labels: {app: api}}
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: a}
    spec: {address: 10.0.0.1, labels: {app: api}, locality: r1/z1}
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: b}
    spec: {address: 10.0.0.2, labels: {app: api}, locality: r1/z2}
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: c}
    spec: {address: 10.0.0.3, labels: {app: api}, locality: r2/z1}
    ---
    apiVersion: networking.istio.io/v1
    kind: WorkloadEntry
    metadata: {name: d}
    spec: {address: 10.0.0.4, labels: {app: api}, locality: r3/z1}
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata:
      name: api
      annotations: {health.weft.dev/type: http, health.weft.dev/path: /ready, health.weft.dev/interval: 2s}
    spec:
      host: api
      trafficPolicy:
        loadBalancer:
          localityLbSetting:
            failover: [{from: r1, to: r3}]
    ---
    apiVersion: policy.weft.dev/v1alpha1
    kind: RateLimit
    metadata: {name: api}
    spec:
      host: api
      tokenBucket: {maxTokens: 10, tokensPerFill: 5, fillInterval: 1500ms}
    """

    static func translate(locality: String?) throws -> ProxyResources {
        let resources = try ResourceDecoder.decode(text: mesh, file: "mesh.yaml")
        var proxy = ProxyNode(id: "p", outbound: try HostPort(parsing: "127.0.0.1:15001"))
        proxy.locality = locality
        return Translator.translate(mesh: MeshState(version: 1, resources: resources, workloads: []), proxy: proxy)
    }

    static func priorities(_ r: ProxyResources) -> [String: UInt32] {
        var out: [String: UInt32] = [:]
        for la in r.endpoints where la.clusterName == "outbound|80||api.default.svc.cluster.local" {
            for g in la.endpoints { for e in g.lbEndpoints { out[e.endpoint.address.socketAddress.address] = g.priority } }
        }
        return out
    }

    @Test func prioritiesFollowTheCallersLocality() throws {
        #expect(Self.priorities(try Self.translate(locality: "r1/z1")) == ["10.0.0.1": 0, "10.0.0.2": 1, "10.0.0.4": 2, "10.0.0.3": 3])
        #expect(Self.priorities(try Self.translate(locality: "r2/z1")) == ["10.0.0.3": 0, "10.0.0.1": 1, "10.0.0.2": 1, "10.0.0.4": 1])
        #expect(Self.priorities(try Self.translate(locality: nil)).values.allSatisfy { $0 == 0 }, "no locality, no priorities")
    }

    @Test func healthCheckOnEveryClusterOfTheHost() throws {
        let c = try #require(try Self.translate(locality: nil).clusters.first { $0.name == "outbound|80||api.default.svc.cluster.local" })
        #expect(c.healthChecks.count == 1)
        let h = c.healthChecks[0]
        #expect(h.httpHealthCheck.path == "/ready" && h.httpHealthCheck.host == "api.default.svc.cluster.local")
        #expect(h.interval.seconds == 2 && h.noTrafficInterval.seconds == 2 && h.unhealthyThreshold.value == 2)
    }

    @Test func rateLimitOnTheRoutesAndTheFilterOnTheListener() throws {
        let r = try Self.translate(locality: nil)
        let route = try #require(r.routes.first?.virtualHosts.first { $0.name == "api.default.svc.cluster.local:80" }?.routes.first)
        let any = try #require(route.typedPerFilterConfig["envoy.filters.http.local_ratelimit"])
        let rl = try Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit(unpackingAny: any)
        #expect(rl.tokenBucket.maxTokens == 10 && rl.tokenBucket.tokensPerFill.value == 5)
        #expect(rl.responseHeadersToAdd.map { "\($0.header.key)=\($0.header.value)" } == ["retry-after=2"])
        #expect(rl.filterEnforced.defaultValue.numerator == 1_000_000)
        let hcm = try #require(r.listeners.first { $0.name == "outbound_http" }?.filterChains[0].filters.last?.typedConfig)
        let filters = try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(unpackingAny: hcm).httpFilters
        #expect(filters.map(\.name).first == "envoy.filters.http.local_ratelimit")
    }
}
