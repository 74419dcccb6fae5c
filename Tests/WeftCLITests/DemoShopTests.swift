import Testing
import WeftConfig
import WeftCore
import WeftMesh
@testable import WeftCLI

@Test func theBundledShopIsValid() throws {
    let spec = try MeshDecoder.decode(text: DemoShop.mesh, file: "mesh.yaml")
    #expect(Set(spec.services.map(\.deploymentName)) == ["front-v1", "details-v1", "reviews-v1", "reviews-v2", "reviews-v3", "ratings-v1", "loadgen"])
    let hosts: Set<String> = Set(spec.services.map { "\($0.name).default.svc.cluster.local" })
    let base = try DemoShop.istio.flatMap { try ResourceDecoder.decode(text: $0.1, file: $0.0) }
    #expect(ConfigSetValidator.validate(base, extraHosts: hosts).isEmpty)
    for (file, text) in DemoShop.recipes {
        let recipe = try ResourceDecoder.decode(text: text, file: file)
        let problems = recipe.flatMap(ResourceValidator.validate)
        #expect(problems.isEmpty, "\(file): \(problems)")
        let merged = base.filter { b in !recipe.contains { $0.key == b.key } } + recipe
        #expect(ConfigSetValidator.validate(merged, extraHosts: hosts).isEmpty, "\(file)")
    }
}

@Test func routeSummaryReadsLikeTheRecipe() throws {
    let vs: JSONValue = .object([
        ("kind", .string("VirtualService")), ("namespace", .string("default")), ("name", .string("reviews")),
        ("spec", .object([
            ("hosts", .array([.string("reviews")])),
            ("http", .array([
                .object([("match", .array([.object([("headers", .object([("end-user", .object([("exact", .string("jason"))]))]))])])),
                         ("route", .array([.object([("destination", .object([("host", .string("reviews")), ("subset", .string("v2"))]))])]))]),
                .object([("route", .array([
                    .object([("destination", .object([("host", .string("reviews")), ("subset", .string("v1"))])), ("weight", .number(90))]),
                    .object([("destination", .object([("host", .string("reviews")), ("subset", .string("v3"))])), ("weight", .number(10))]),
                ])), ("fault", .object([("abort", .object([("httpStatus", .number(503)), ("percentage", .object([("value", .number(50))]))]))]))]),
            ])),
        ])),
    ])
    #expect(RouteSummary.render([vs]) == """
    reviews  (VirtualService default/reviews)
      header end-user = jason  ->  reviews v2
      any request  ->  reviews v1 90%, reviews v3 10%  [fault: abort 503 for 50%]

    """)
}

@Test func statusShowsSyncState() {
    let status: JSONValue = .object([
        ("version", .number(7)),
        ("proxies", .array([.object([
            ("id", .string("front-v1.default")), ("connected", .bool(true)),
            ("acked", .object([("type.googleapis.com/envoy.config.cluster.v3.Cluster", .string("c1"))])),
            ("sent", .object([("type.googleapis.com/envoy.config.cluster.v3.Cluster", .string("c2"))])),
            ("nack", .null),
        ])])),
        ("errors", .array([])),
        ("workloads", .array([.object([
            ("name", .string("reviews-v1")), ("addresses", .array([.string("127.0.0.13")])),
            ("labels", .object([("version", .string("v1"))])),
            ("services", .array([.object([("name", .string("reviews")), ("port", .number(9080)), ("targetPort", .number(9080))])])),
        ])])),
    ])
    let text = StatusReport(status: status, virtualServices: []).render()
    #expect(text.contains("reviews:9080  reviews-v1  v1       127.0.0.13:9080"))
    #expect(text.contains("front-v1.default  yes        pending  c1/-/-/-"))
    #expect(text.contains("CONFIG ERRORS\nnone"))
}
