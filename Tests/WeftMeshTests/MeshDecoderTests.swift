import Testing
import WeftCore
@testable import WeftMesh

/// Error lines of decoding `text` as mesh.yaml, or [] when it is valid.
func problems(_ text: String) -> [String] {
    do {
        _ = try MeshDecoder.decode(text: text, file: "mesh.yaml")
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}

let threeServices = """
config: istio
services:
- name: front
  command: weft-sample front
  port: 9080
- name: reviews
  version: v1
  command: [weft-sample, reviews]
  port: 9080
- name: reviews
  version: v2
  command: weft-sample reviews
  port: 9080
  replicas: 2
  labels: {team: books}
  env: {GREETING: hi}
- name: ratings
  command: weft-sample ratings
  port: 9080
  targetPort: 8081
options: {ipv6: false, ttl: 5s, restartBackoff: 100ms}
"""

@Test func decodesAValidMesh() throws {
    let spec = try MeshDecoder.decode(text: threeServices, file: "mesh.yaml")
    #expect(spec.configFolder == "istio")
    #expect(spec.services.count == 4)
    #expect(spec.services[0].command == .shell("weft-sample front"))
    #expect(spec.services[1].command == .argv(["weft-sample", "reviews"]))
    #expect(spec.services[2].labels == ["app": "reviews", "version": "v2", "team": "books"])
    #expect(spec.services[0].targetPort == 19080)
    #expect(spec.services[3].targetPort == 8081)
    #expect(spec.options.ttlSeconds == 5)
    #expect(spec.options.restartInitial == 0.1)
}

@Test func reportsFieldPaths() {
    let text = """
    services:
    - name: front
      command: weft-sample front
      port: 9080
    - name: Reviews
      command: ""
      port: 70000
      replicas: 0
      protocol: smtp
      colour: blue
    """
    #expect(problems(text) == [
        "mesh.yaml: services[1].command: must be a command line (a string) or a non-empty list of strings",
        "mesh.yaml: services[1].protocol: 'smtp' is not one of http, http2, grpc, tcp",
        "mesh.yaml: services[1].colour: unknown field 'colour'",
    ])
    let text2 = """
    services:
    - {name: front, command: a, port: 9080}
    - {name: Reviews, command: b, port: 70000, replicas: 0}
    """
    #expect(problems(text2) == [
        "mesh.yaml: services[1].name: 'Reviews' must be lower-case letters, digits and '-', starting with a letter",
        "mesh.yaml: services[1].port: must be between 1 and 65535, got 70000",
        "mesh.yaml: services[1].replicas: must be at least 1",
    ])
}

@Test func refusesConflictsBetweenEntries() {
    let text = """
    services:
    - {name: reviews, version: v1, command: a, port: 9080}
    - {name: reviews, version: v1, command: b, port: 9090}
    - {name: ratings, command: c, port: 15001}
    - {name: details, command: d, port: 9080, targetPort: 9080}
    """
    #expect(problems(text) == [
        "mesh.yaml: services[1].port: service reviews already has port 9080 in services[0]",
        "mesh.yaml: services[1]: duplicates services[0] (reviews-v1); give each entry of a service its own version",
        "mesh.yaml: services[2].port: 15001 is taken by the sidecar (outbound 15001, admin 15000)",
        "mesh.yaml: services[3].targetPort: must differ from port 9080 (the sidecar listens on port)",
    ])
}

@Test func reportsMissingAndTopLevelProblems() {
    #expect(problems("") == ["mesh.yaml: the file is empty"])
    #expect(problems("services: []\n") == ["mesh.yaml: services: must list at least one service"])
    #expect(problems("namespace: Prod\nservices:\n- {name: a}\noptions: {ttl: soon, api: nowhere}\n") == [
        "mesh.yaml: namespace: 'Prod' must be lower-case letters, digits and '-'",
        "mesh.yaml: options.api: missing port in 'nowhere' (expected host:port, IPv6 as [::1]:port)",
        "mesh.yaml: options.ttl: 'soon' is not a duration (for example 1s, 500ms, 1m)",
        "mesh.yaml: services[0].command: missing required field",
        "mesh.yaml: services[0].port: missing required field",
    ])
}

@Test func optionsTakeListenerLimits() throws {
    let spec = try MeshDecoder.decode(text: """
    services:
    - {name: a, command: x, port: 9080}
    options: {limits: {maxConnections: 50, streamIdleTimeout: 30s}}
    """, file: "mesh.yaml")
    #expect(spec.options.limits.maxConnections == 50)
    #expect(spec.options.limits.streamIdleTimeoutNanos == 30_000_000_000)
    #expect(problems("""
    services:
    - {name: a, command: x, port: 9080}
    options: {limits: {maxHeadersCount: 0}}
    """) == ["mesh.yaml: options.limits.maxHeadersCount: must be between 1 and 10000, got 0"])
}
