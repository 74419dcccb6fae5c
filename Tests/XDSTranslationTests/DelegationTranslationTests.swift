import EnvoyAPI
import Testing
import WeftConfig
import WeftCore
import WeftModel
import XDSTranslation

/// VirtualService delegation and several mirrors, as Envoy receives them.
@Suite struct DelegationTranslationTests {
    static let mesh = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: reviews}
    spec:
      hosts: [reviews.default.svc.cluster.local]
      ports: [{number: 80, name: http, protocol: HTTP}]
      resolution: STATIC
      workloadSelector: {labels: {app: reviews}}
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: reviews}
    spec:
      host: reviews
      subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews}
    spec:
      hosts: [reviews]
      http:
      - name: api
        match: [{uri: {prefix: /api}}, {headers: {x-team: {exact: a}}}]
        delegate: {name: reviews-api, namespace: team}
        timeout: 3s
      - name: missing
        delegate: {name: nothing-here}
      - name: rest
        route: [{destination: {host: reviews, subset: v1}}]
        mirrors:
        - destination: {host: reviews, subset: v2}
          percentage: {value: 25}
        - destination: {host: reviews, subset: v1}
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews-api, namespace: team}
    spec:
      http:
      - name: v2
        match: [{uri: {prefix: /api/v2}}]
        route: [{destination: {host: reviews.default, subset: v2}}]
      - name: outside
        match: [{uri: {prefix: /other}}]
        route: [{destination: {host: reviews.default, subset: v2}}]
      - name: all
        timeout: 1s
        route: [{destination: {host: reviews.default, subset: v1}}]
    """

    static func routes() throws -> [Envoy_Config_Route_V3_Route] {
        let resources = try ResourceDecoder.decode(text: mesh, file: "mesh.yaml")
        let proxy = ProxyNode(id: "p", outbound: try HostPort(parsing: "127.0.0.1:15001"))
        let r = Translator.translate(mesh: MeshState(version: 1, resources: resources, workloads: []), proxy: proxy)
        return try #require(r.routes.first?.virtualHosts.first { $0.name == "reviews.default.svc.cluster.local:80" }?.routes)
    }

    @Test func delegateRoutesAreMergedWithTheRootsMatchAndPolicies() throws {
        let routes = try Self.routes()
        // Each delegate match is merged with every root match it lies inside: /api/v2 with the /api prefix and with
        // the header-only match (no uri to leave); /other only with the header-only one; `all` takes both root
        // matches. The route naming a missing delegate is left out.
        #expect(routes.map(\.name) == ["api-v2", "api-v2", "api-outside", "api-all", "api-all", "rest"])
        #expect(routes[0].match.prefix == "/api/v2" && routes[0].route.cluster == "outbound|80|v2|reviews.default.svc.cluster.local")
        #expect(routes[1].match.prefix == "/api/v2" && routes[1].match.headers.map(\.name) == ["x-team"])
        #expect(routes[2].match.prefix == "/other" && routes[2].match.headers.map(\.name) == ["x-team"])
        #expect(routes[3].match.prefix == "/api" && routes[4].match.headers.map(\.name) == ["x-team"])
        #expect(routes[0].route.timeout.seconds == 3, "a delegate route without a timeout takes the root's")
        #expect(routes[3].route.timeout.seconds == 1, "a delegate route's own timeout wins")
    }

    @Test func everyMirrorGetsItsOwnPolicy() throws {
        let rest = try #require(try Self.routes().last)
        let mirrors = rest.route.requestMirrorPolicies
        #expect(mirrors.map(\.cluster) == ["outbound|80|v2|reviews.default.svc.cluster.local", "outbound|80|v1|reviews.default.svc.cluster.local"])
        #expect(mirrors[0].runtimeFraction.defaultValue.numerator == 250_000 && !mirrors[1].hasRuntimeFraction)
    }

    @Test func aMissingDelegateIsAWarningNotARefusal() throws {
        let resources = try ResourceDecoder.decode(text: Self.mesh, file: "mesh.yaml")
        #expect(ConfigSetValidator.validate(resources).isEmpty)
        let w = ConfigSetValidator.warnings(resources)
        #expect(w.map(\.path) == ["spec.http[1].delegate"] && w[0].message.contains("no delegate VirtualService default/nothing-here"))
    }
}
