import Testing
import WeftConfig
import WeftCore

@Suite struct DecodingTests {
    @Test(arguments: ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"])
    func acceptsEveryIstioVersion(_ apiVersion: String) throws {
        let text = "apiVersion: \(apiVersion)\nkind: VirtualService\nmetadata: {name: r, namespace: shop}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}"
        let r = try ResourceDecoder.decode(text: text, file: "f.yaml")
        #expect(r.map(\.key) == [ResourceKey(kind: .VirtualService, namespace: "shop", name: "r")])
    }

    /// Kubernetes reads these as strings; libyaml refuses the first two in a flow list and YAML 1.1 makes `1:30` a number.
    @Test func ipv6AndColonScalarsAreStringsAsInKubernetes() throws {
        let text = "a: [2001:db8::, ::1, 2001:db8::1, 1:30]\nb: {x: fe80::}\nc: \"[::]\"\n"
        let docs = try DocumentLoader.documents(text, file: "f.yaml")
        #expect(docs == [.object([("a", .array([.string("2001:db8::"), .string("::1"), .string("2001:db8::1"), .string("1:30")])),
                                  ("b", .object([("x", .string("fe80::"))])), ("c", .string("[::]"))])])
    }

    @Test func decodesJSON() throws {
        let json = #"{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"r"},"spec":{"host":"reviews","subsets":[{"name":"v1","labels":{"version":"v1"}}]}}"#
        let r = try ResourceDecoder.decode(text: json, file: "f.json")
        guard case let .destinationRule(dr)? = r.first?.spec else { Issue.record("not a DestinationRule"); return }
        #expect(dr.subsets.map(\.name) == ["v1"])
        #expect(r.first?.key.namespace == "default")
    }

    @Test func decodesFullHTTPRoute() throws {
        let text = vs("""
          hosts: [reviews]
          http:
          - name: jason
            match:
            - headers:
                end-user: {exact: jason}
              uri: {prefix: /api}
              queryParams:
                debug: {}
            rewrite: {uri: /v2/api, authority: reviews.internal}
            route:
            - destination: {host: reviews, subset: v2, port: {number: 9080}}
              weight: 90
              headers: {request: {set: {x-canary: "1"}}}
            - destination: {host: reviews, subset: v1}
              weight: 10
            timeout: 1.5s
            retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,503"}
            fault:
              delay: {fixedDelay: 200ms, percentage: {value: 10}}
              abort: {grpcStatus: UNAVAILABLE, percentage: {value: 0.5}}
            mirror: {host: reviews, subset: v3}
            mirrorPercentage: {value: 25}
            corsPolicy:
              allowOrigins: [{exact: "https://shop.example"}]
              allowMethods: [GET]
              maxAge: 24h
            headers:
              response: {remove: [server]}
        """)
        let r = try ResourceDecoder.decode(text: text, file: "f.yaml")
        guard case let .virtualService(v)? = r.first?.spec, let route = v.http.first else { Issue.record("no route"); return }
        #expect(route.match[0].headers["end-user"] == .exact("jason"))
        #expect(route.match[0].queryParams["debug"] == .present)
        #expect(route.route.map(\.weight) == [90, 10])
        #expect(route.timeout == 1_500_000_000)
        #expect(route.retries?.perTryTimeout == 500_000_000)
        #expect(route.fault?.abort?.kind == .grpc("UNAVAILABLE"))
        #expect(route.mirrorPercentage == 25)
        #expect(route.corsPolicy?.maxAge == 86_400_000_000_000)
        #expect(route.headers?.response.remove == ["server"])
    }

    @Test func crossChecksReferences() throws {
        let se = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews.default.svc.cluster.local]\n  ports: [{number: 9080, name: http, protocol: HTTP}]\n  resolution: STATIC\n  workloadSelector: {labels: {app: reviews}}"
        let route = vs("  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v9}\n  - route:\n    - destination: {host: ghost}")
        let all = try ResourceDecoder.decode(text: se + "\n---\n" + route, file: "f.yaml")
        let found = ConfigSetValidator.validate(all).map { "\($0.path): \($0.message)" }
        #expect(found == [
            "spec.http[0].route[0].destination.subset: subset 'v9' is not defined by any DestinationRule for host reviews.default.svc.cluster.local",
            "spec.http[1].route[0].destination.host: host 'ghost' is not declared by any ServiceEntry or registered workload",
        ])
        #expect(ConfigSetValidator.validate(all, extraHosts: ["ghost.default.svc.cluster.local"]).count == 1)
    }

    @Test func shortNamesResolveInTheirNamespace() {
        let declared: Set<String> = ["reviews.shop.svc.cluster.local", "*.example.com"]
        #expect(HostName.resolve("reviews", namespace: "shop", declared: declared) == "reviews.shop.svc.cluster.local")
        #expect(HostName.resolve("reviews.shop", namespace: "other", declared: declared) == "reviews.shop.svc.cluster.local")
        #expect(HostName.resolve("reviews", namespace: "other", declared: declared) == nil)
        #expect(HostName.resolve("api.example.com", namespace: "x", declared: declared) == "*.example.com")
    }

    @Test(arguments: [("127.0.0.1:15010", "127.0.0.1", 15010), ("[::1]:15010", "::1", 15010), ("localhost:80", "localhost", 80)])
    func parsesAddresses(_ text: String, _ host: String, _ port: Int) throws {
        let hp = try HostPort(parsing: text)
        #expect(hp.host == host && hp.port == port && hp.description == text)
    }

    @Test(arguments: ["::1:15010", "127.0.0.1", "[::1]", "host:99999"])
    func refusesBadAddresses(_ text: String) {
        #expect(throws: Diagnostic.self) { try HostPort(parsing: text) }
    }

    @Test(arguments: [("1s", 1_000_000_000), ("250ms", 250_000_000), ("1h30m", 5_400_000_000_000), ("0.5s", 500_000_000)] as [(String, Int64)])
    func parsesDurations(_ text: String, _ nanos: Int64) {
        #expect(ConfigDuration.nanoseconds(text) == nanos)
    }
}

/// Issue 10: YAML input is bounded before any large allocation.
@Suite struct DocumentLimitTests {
    /// Ten levels of ten aliases: 10^10 values once expanded, in a few hundred bytes.
    static let billionLaughs: String = {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            lines.append("a\(i): &a\(i) [\(refs)]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    @Test func anAliasBombIsRefusedQuickly() throws {
        let start = ContinuousClock.now
        #expect(throws: Diagnostic.self) { try DocumentLoader.documents(Self.billionLaughs, file: "bomb.yaml") }
        #expect(ContinuousClock.now - start < .seconds(2))
        do {
            _ = try DocumentLoader.documents(Self.billionLaughs, file: "bomb.yaml")
        } catch {
            #expect(error.file == "bomb.yaml" && error.message.contains("once YAML aliases are expanded"))
        }
    }

    @Test func aFewAliasesStillWork() throws {
        let docs = try DocumentLoader.documents("base: &b {port: 80}\nother: *b\n", file: "f.yaml")
        #expect(docs.count == 1)
    }

    @Test func deepNestingIsRefusedBeforeTheParserRecurses() {
        let cases = [String(repeating: "[", count: 100_000), String(repeating: "{a: ", count: 100_000),
                     String(repeating: "- ", count: 100_000) + "x",
                     (0..<80).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x"]
        for text in cases {
            #expect(throws: Diagnostic.self, "\(text.prefix(20))") { try DocumentLoader.documents(text, file: "deep.yaml") }
        }
    }

    @Test func bracketsInQuotesCommentsAndWordsDoNotCount() throws {
        let deep = String(repeating: "[", count: 200)
        let text = "a: \"\(deep)\"\nb: '\(deep)'\n# \(deep)\nc: it's fine\nd: [1, [2, [3]]]\n"
        #expect(try DocumentLoader.documents(text, file: "ok.yaml").count == 1)
    }
}
