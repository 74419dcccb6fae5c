import EnvoyAPI
import ProxyConfig
import ProxyRouting
import Testing
import XDSClient

/// "Request X from proxy P lands on cluster C": the control plane's translation, converted by XDSClient and
/// routed by ProxyRouting.
@Suite struct RoutingTests {
    static let v1 = "outbound|9080|v1|reviews.shop.svc.cluster.local"
    static let v2 = "outbound|9080|v2|reviews.shop.svc.cluster.local"

    @Test func splitSendsEightyPercentToV1() throws {
        let s = try Fixture.snapshot()
        let f = try #require(s.forward(Fixture.request("reviews:9080", "/products")))
        #expect(f.totalWeight == 100)
        for r in 0..<80 { #expect(f.pick(random: r)?.name == Self.v1) }
        for r in 80..<100 { #expect(f.pick(random: r)?.name == Self.v2) }
    }

    @Test func headerMatchPinsJasonToV2() throws {
        let s = try Fixture.snapshot()
        let f = try #require(s.forward(Fixture.request("reviews", "/", headers: [("end-user", "jason")])))
        #expect(f.clusters.map(\.name) == [Self.v2])
        #expect(f.hashPolicies == [.header("x-user")])
        let other = try #require(s.forward(Fixture.request("reviews", "/", headers: [("end-user", "bob")])))
        #expect(other.clusters.count == 2)
    }

    @Test(arguments: ["reviews", "reviews:9080", "reviews.shop", "reviews.shop.svc:9080",
                      "reviews.shop.svc.cluster.local", "reviews.shop.svc.cluster.local:9080", "REVIEWS.shop"])
    func namesFindTheSameVirtualHost(_ authority: String) throws {
        let s = try Fixture.snapshot()
        let (vh, _) = try #require(s.route(Fixture.request(authority)))
        #expect(vh.name == "reviews.shop.svc.cluster.local:9080")
    }

    @Test func unknownHostFindsNoRoute() throws {
        #expect(try Fixture.snapshot().route(Fixture.request("ratings")) == nil)
    }

    @Test func redirectBuildsLocation() throws {
        let s = try Fixture.snapshot()
        let req = Fixture.request("reviews", "/v0/items?x=1")
        let (_, route) = try #require(s.route(req))
        guard case let .redirect(r) = route.action else { Issue.record("expected a redirect"); return }
        #expect(r.status == 308)
        #expect(r.location(for: req, matchedPrefix: route.match.matchedPrefix) == "http://reviews/v1/?x=1")
    }

    @Test func prefixRewrite() throws {
        let s = try Fixture.snapshot()
        let req = Fixture.request("reviews", "/legacy/a?b=1")
        let (_, route) = try #require(s.route(req))
        guard case let .forward(f) = route.action else { Issue.record("expected forward"); return }
        #expect(f.clusters.map(\.name) == [Self.v1])
        #expect(f.rewrittenURI(req.uri, matchedPrefix: route.match.matchedPrefix) == "/api/a?b=1")
    }

    @Test func splitRoutePolicies() throws {
        let s = try Fixture.snapshot()
        let (_, route) = try #require(s.route(Fixture.request("reviews", "/x")))
        #expect(route.fault == FaultPolicy(abortStatus: 503, abortPerMillion: 1_000))
        #expect(route.requestHeaders.set.map { "\($0.0)=\($0.1)" } == ["x-mesh=weft"])
        guard case let .forward(f) = route.action else { Issue.record("expected forward"); return }
        #expect(f.timeout == .seconds(3))
        let retry = try #require(f.retry)
        #expect(retry.attempts == 2)
        #expect(retry.perTryTimeout == .seconds(1))
        #expect(retry.onGatewayError && !retry.on5xx)
        #expect(retry.retriable(status: 503) && retry.retriable(status: 502) && !retry.retriable(status: 500))
        #expect(f.mirrors == [MirrorPolicy(cluster: Self.v2, fractionPerMillion: 50_000)])
    }

    @Test func routeWithoutTimeoutHasNone() throws {
        // Istio's default route sets timeout 0s, which means no timeout.
        let f = try #require(try Fixture.snapshot().forward(Fixture.request("reviews", "/legacy/")))
        #expect(f.timeout == nil)
        #expect(f.retry?.attempts == 2 && f.retry?.onConnectFailure == true)
    }

    @Test func subsetClusterGetsItsEndpointsByEDS() throws {
        let s = try Fixture.snapshot()
        let v1 = try #require(s.clusters[Self.v1])
        #expect(v1.discovery == .eds)
        #expect(v1.endpoints == [EndpointConfig(host: "10.0.0.1", port: 8080, locality: "eu/west-1a")])
        #expect(s.clusters[Self.v2]?.endpoints == [EndpointConfig(host: "10.0.0.2", port: 9080, weight: 3)])
        #expect(s.clusters["outbound|9080||reviews.shop.svc.cluster.local"]?.endpoints.count == 2)
        #expect(v1.connectTimeout == .seconds(2))
        #expect(v1.limits == CircuitLimits(maxConnections: 100, maxPendingRequests: 10, maxRetries: 4, retryBudgetPercent: 20, minRetryConcurrency: 3))
        #expect(v1.maxRequestsPerConnection == 5)
        #expect(s.clusters[Self.v2]?.lbPolicy == .ringHash)
        #expect(s.versions[EnvoyTypeURL.clusterLoadAssignment] == "e1")
    }

    @Test func tcpListenerForwardsToTheDNSCluster() throws {
        let s = try Fixture.snapshot()
        let l = try #require(s.listeners["outbound_tcp|5432|db.example.com"])
        #expect(l.host == "127.0.0.1" && l.port == 5432)
        #expect(l.kind == .tcp(clusters: [WeightedCluster(name: "outbound|5432||db.example.com")], statPrefix: "outbound_tcp_5432"))
        let c = try #require(s.clusters["outbound|5432||db.example.com"])
        #expect(c.discovery == .strictDNS)
        #expect(c.endpoints == [EndpointConfig(host: "db.example.com", port: 5432)])
    }

    @Test func inboundListenerUsesItsInlineRouteTable() throws {
        let s = try Fixture.snapshot()
        let l = try #require(s.listeners["inbound|0.0.0.0:15006"])
        let name = XDSConversion.inlineRouteName(listener: l.name)
        #expect(l.kind == .http(routeTable: name, statPrefix: "inbound_15006"))
        let (_, route) = try #require(s.routeTables[name]?.route(for: Fixture.request("anything", "/x")))
        guard case let .forward(f) = route.action else { Issue.record("expected forward"); return }
        #expect(f.clusters.map(\.name) == ["inbound|15006||"])
        #expect(s.clusters["inbound|15006||"]?.endpoints == [EndpointConfig(host: "127.0.0.1", port: 9080)])
    }

    @Test func grpcPortClusterUsesHTTP2() throws {
        let text = Fixture.mesh.replacingOccurrences(of: "{number: 9080, name: http, protocol: HTTP}", with: "{number: 9080, name: grpc, protocol: GRPC}")
        let s = try Fixture.snapshot(text)
        #expect(s.clusters[Self.v1]?.http2 == true)
        #expect(s.clusters["outbound|5432||db.example.com"]?.http2 == false)
    }
}
