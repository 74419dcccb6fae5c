import Testing
import WeftCore
@testable import WeftTraffic

/// Prometheus text in, the service graph out: parsing, the two data planes' metrics, rates over a window and
/// quantiles from histogram buckets.
@Suite struct TrafficTests {
    @Test func parsesSamplesLabelsAndEscapes() {
        let text = """
        # TYPE x counter
        x{a="1",b="q\\"uote",c="n\\nl"} 3
        y 4.5
        z{le="+Inf"} +Inf
        broken{a="1" 2
        """
        let s = PromText.parse(text)
        #expect(s.count == 3)
        #expect(s[0] == PromSample("x", ["a": "1", "b": "q\"uote", "c": "n\nl"], 3))
        #expect(s[1] == PromSample("y", [:], 4.5))
        #expect(s[2].value == .infinity)
        #expect(PromText.parse(text, keep: { $0 == "y" }).map(\.name) == ["y"])
    }

    static let weftText = """
    istio_requests_total{reporter="source",source_workload="front-v1",source_workload_namespace="shop",source_principal="spiffe://cluster.local/ns/shop/sa/front",source_app="front",destination_service="reviews.shop.svc.cluster.local",destination_service_name="reviews",destination_service_namespace="shop",destination_version="v1",response_code="200",response_flags="-",connection_security_policy="unknown"} 90
    istio_requests_total{reporter="source",source_workload="front-v1",source_workload_namespace="shop",source_principal="unknown",source_app="front",destination_service="reviews.shop.svc.cluster.local",destination_service_name="reviews",destination_service_namespace="shop",destination_version="unknown",response_code="503",response_flags="FI",connection_security_policy="unknown"} 10
    istio_requests_total{reporter="destination",source_workload="front-v1",destination_service="reviews.shop.svc.cluster.local",response_code="200"} 90
    istio_request_duration_milliseconds_bucket{reporter="source",source_workload="front-v1",source_workload_namespace="shop",source_app="front",destination_service="reviews.shop.svc.cluster.local",destination_service_name="reviews",destination_service_namespace="shop",destination_version="v1",le="5"} 45
    istio_request_duration_milliseconds_bucket{reporter="source",source_workload="front-v1",source_workload_namespace="shop",source_app="front",destination_service="reviews.shop.svc.cluster.local",destination_service_name="reviews",destination_service_namespace="shop",destination_version="v1",le="10"} 90
    istio_request_duration_milliseconds_bucket{reporter="source",source_workload="front-v1",source_workload_namespace="shop",source_app="front",destination_service="reviews.shop.svc.cluster.local",destination_service_name="reviews",destination_service_namespace="shop",destination_version="v1",le="+Inf"} 90
    """

    @Test func weftSourceReportsMakeEdgesAndDestinationReportsOfKnownCallersAreNotCountedTwice() {
        let edges = TrafficSample.weft(PromText.parse(Self.weftText, keep: TrafficSample.wanted))
        #expect(edges.count == 2)
        let v1 = edges.first { $0.key.version == "v1" }!.value
        #expect(v1.requests == 90 && v1.errors == 0 && v1.mtls == 90)
        #expect(v1.buckets == [5: 45, 10: 90, .infinity: 90])
        let aborted = edges.first { $0.key.version == "unknown" }!.value
        #expect(aborted.errors == 10 && aborted.byFlag == ["FI": 10] && aborted.mtls == 0)
    }

    @Test func envoyClusterStatsMakeEdgesFromTheProxysWorkload() {
        let text = """
        envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="outbound|9080|v2|reviews.shop.svc.cluster.local"} 8
        envoy_cluster_upstream_rq{envoy_response_code="503",envoy_cluster_name="outbound|9080|v2|reviews.shop.svc.cluster.local"} 2
        envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="inbound|8080||"} 5
        envoy_cluster_ssl_handshake{envoy_cluster_name="outbound|9080|v2|reviews.shop.svc.cluster.local"} 1
        """
        let edges = TrafficSample.envoy(PromText.parse(text), source: PeerMetadata(namespace: "shop", labels: ["app": "front"], principal: nil))
        #expect(edges.count == 1)
        let (k, c) = edges.first!
        #expect(k.source == "front" && k.serviceName == "reviews" && k.serviceNamespace == "shop" && k.version == "v2")
        #expect(c.requests == 10 && c.errors == 2 && c.byFlag == ["5xx": 2] && c.mtls == 10)
    }

    @Test func ratesAreOverTheWindowAndARestartedProxyCountsFromZero() {
        let key = EdgeKey(source: "a", sourceNamespace: "n", sourceApp: "a", service: "s.n.svc.cluster.local", serviceName: "s",
                          serviceNamespace: "n", version: "v1")
        var c1 = EdgeCounters(); c1.requests = 100; c1.errors = 10
        var c2 = EdgeCounters(); c2.requests = 150; c2.errors = 15; c2.buckets = [1: 10, 10: 50, .infinity: 50]
        c1.buckets = [1: 0, 10: 0, .infinity: 0]
        let g = GraphBuilder.build([(Scrape(at: 100, edges: [key: c1]), Scrape(at: 105, edges: [key: c2]))])
        #expect(g.windowSeconds == 5)
        #expect(g.edges.first?.rps == 10)
        #expect(g.edges.first?.errorRate == 0.1)
        #expect(g.services.first?.versions == ["v1"])
        var restarted = EdgeCounters(); restarted.requests = 20
        let r = GraphBuilder.build([(Scrape(at: 100, edges: [key: c2]), Scrape(at: 110, edges: [key: restarted]))])
        #expect(r.edges.first?.rps == 2)
        #expect(GraphBuilder.build([(nil, Scrape(at: 1, edges: [key: c2]))]).edges.isEmpty)
    }

    @Test func quantilesInterpolateWithinTheirBucket() {
        let b: [Double: Double] = [10: 50, 20: 100, .infinity: 100]
        #expect(GraphBuilder.quantile(0.5, b) == 10)
        #expect(GraphBuilder.quantile(0.75, b) == 15)
        #expect(GraphBuilder.quantile(0.99, [10: 0, .infinity: 4]) == 10)
        #expect(GraphBuilder.quantile(0.5, [10: 0, .infinity: 0]) == nil)
    }
}
