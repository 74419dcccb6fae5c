import ProxyConfig
import ProxyRouting
import Testing

func request(_ uri: String, host: String = "reviews", headers: [(String, String)] = []) -> RequestView {
    RequestView(method: "GET", uri: uri, authority: host, headers: HeaderList(headers))
}

func forward(_ cluster: String) -> RouteAction { .forward(ForwardAction(clusters: [WeightedCluster(name: cluster)])) }

@Suite struct RoutingTests {
    let table = RouteTable(name: "t", virtualHosts: [
        VirtualHost(name: "exact", domains: ["reviews", "reviews:9080"], routes: [
            Route(name: "jason", match: RouteMatch(path: .prefix("/"), headers: [HeaderMatcher(name: "end-user", kind: .string(.exact("jason")))]),
                  action: forward("v2")),
            Route(name: "api", match: RouteMatch(path: .exact("/api"), query: [QueryMatcher(name: "debug", matcher: nil)]), action: forward("debug")),
            Route(name: "rx", match: RouteMatch(path: .regex(try! CompiledRegex("/items/[0-9]+"))), action: forward("items")),
            Route(name: "default", match: RouteMatch(path: .prefix("/")), action: forward("v1")),
        ]),
        VirtualHost(name: "suffix", domains: ["*.example.com"], routes: [Route(match: RouteMatch(path: .prefix("/")), action: forward("ext"))]),
        VirtualHost(name: "prefix", domains: ["api.*"], routes: [Route(match: RouteMatch(path: .prefix("/")), action: forward("api"))]),
        VirtualHost(name: "any", domains: ["*"], routes: [Route(match: RouteMatch(path: .prefix("/")), action: forward("any"))]),
    ])

    func cluster(_ r: RequestView) -> String? {
        guard let (_, route) = table.route(for: r), case let .forward(f) = route.action else { return nil }
        return f.clusters.first?.name
    }

    @Test func virtualHostsInEnvoysOrder() {
        #expect(table.virtualHost(authority: "REVIEWS:9080")?.name == "exact")
        #expect(table.virtualHost(authority: "shop.example.com")?.name == "suffix")
        #expect(table.virtualHost(authority: "api.internal")?.name == "prefix")
        #expect(table.virtualHost(authority: "other")?.name == "any")
    }

    @Test func routesInOrder() {
        #expect(cluster(request("/", headers: [("end-user", "jason")])) == "v2")
        #expect(cluster(request("/api?debug")) == "debug")
        #expect(cluster(request("/api?x=1")) == "v1")
        #expect(cluster(request("/items/42")) == "items")
        #expect(cluster(request("/items/42x")) == "v1")
    }

    @Test func weightedChoiceFollowsWeights() {
        let f = ForwardAction(clusters: [WeightedCluster(name: "v1", weight: 80), WeightedCluster(name: "v2", weight: 20)])
        let picks = (0..<100).map { f.pick(random: $0)!.name }
        #expect(picks.filter { $0 == "v1" }.count == 80)
        #expect(f.pick(random: 79)?.name == "v1" && f.pick(random: 80)?.name == "v2")
    }

    @Test func rewritesKeepTheQuery() throws {
        let f = ForwardAction(clusters: [WeightedCluster(name: "c")], prefixRewrite: "/v2/")
        #expect(f.rewrittenURI("/v1/items?x=1", matchedPrefix: "/v1/") == "/v2/items?x=1")
        let r = ForwardAction(clusters: [WeightedCluster(name: "c")], regexRewrite: (try CompiledRegex("^/old/(.*)$"), "/new/\\1"))
        #expect(r.rewrittenURI("/old/a/b?q", matchedPrefix: nil) == "/new/a/b?q")
    }

    @Test func redirectLocation() {
        let r = RedirectAction(scheme: "https", host: "shop.example", port: 8443, path: nil, prefixRewrite: "/v1/", status: 308)
        #expect(r.location(for: request("/v0/cart?id=3"), matchedPrefix: "/v0/") == "https://shop.example:8443/v1/cart?id=3")
        #expect(RedirectAction(path: "/new").location(for: request("/old?a=1"), matchedPrefix: nil) == "http://reviews/new?a=1")
    }

    @Test func headerEdits() {
        var h = HeaderList([("x-a", "1"), ("x-drop", "y")])
        HeaderEdits(set: [("x-a", "2")], append: [("x-b", "3")], remove: ["x-drop"]).apply(to: &h)
        #expect(h == HeaderList([("x-a", "2"), ("x-b", "3")]))
    }

    @Test func invertedAndPresenceMatchers() {
        let absent = HeaderMatcher(name: "x-canary", kind: .present(true), invert: true)
        let m = RouteMatch(path: .prefix("/"), headers: [absent])
        #expect(m.matches(request("/")))
        #expect(!m.matches(request("/", headers: [("x-canary", "1")])))
    }

    @Test func retryBudgetScalesWithActiveRequests() {
        let budget = CircuitLimits(retryBudgetPercent: 20, minRetryConcurrency: 3)
        #expect(budget.retriesAllowed(active: 5) == 3)
        #expect(budget.retriesAllowed(active: 100) == 20)
        #expect(CircuitLimits(maxRetries: 4).retriesAllowed(active: 1000) == 4)
    }
}

/// Envoy's normalize_path (RFC 3986 dot segments, %2e) and merge_slashes, as a table.
@Suite struct PathNormalizerTests {
    static let cases: [(String, Bool, String)] = [
        ("/a/b", false, "/a/b"),
        ("/public/../admin", false, "/admin"),
        ("/public/%2e%2e/admin", false, "/admin"),
        ("/public/%2E%2E/admin?x=/../y", false, "/admin?x=/../y"),
        ("/a/./b/.", false, "/a/b/"),
        ("/../../etc/passwd", false, "/etc/passwd"),
        ("/a/b/..", false, "/a/"),
        ("/a//b", false, "/a//b"),
        ("/a//b///c", true, "/a/b/c"),
        ("/a%2fb", false, "/a%2fb"),
        ("*", false, "*"),
        ("/..%2e/x", false, "/..%2e/x".replacingDots()),
    ]

    @Test func normalisesLikeEnvoy() {
        for (input, merge, want) in Self.cases {
            #expect(PathNormalizer.normalize(input, mergeSlashes: merge) == want, "\(input)")
        }
        #expect(PathNormalizer.mergingSlashes("//a//b?q=//") == "/a/b?q=//")
    }
}

private extension String {
    /// "/..%2e/x": the decoded segment is "...", which is a name, not a dot segment.
    func replacingDots() -> String { "/.../x" }
}
