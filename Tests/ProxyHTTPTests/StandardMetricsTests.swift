import ProxyConfig
import Testing
import WeftCore

/// The per-worker store of Istio's standard metrics: one series per label set, histograms in Envoy's default
/// buckets, a bound on label sets, and Prometheus text with Istio's names.
@Suite struct StandardMetricsTests {
    static func key(code: Int = 200, caller: String = "front") -> StandardMetrics.RequestKey {
        StandardMetrics.RequestKey(
            reporter: .destination, source: PeerMetadata(workload: caller, namespace: "shop"),
            destination: PeerMetadata(workload: "reviews-v1", namespace: "shop", app: "reviews", version: "v1"),
            service: ServiceRef(host: "reviews.shop.svc.cluster.local", name: "reviews", namespace: "shop"),
            requestProtocol: "http", responseCode: code, grpcStatus: "", responseFlags: "-", securityPolicy: "none")
    }

    @Test func aSeriesCountsItsRequestsAndBucketsTheirDurations() {
        let m = StandardMetrics()
        m.record(Self.key(), durationMs: 0.2, requestBytes: 100, responseBytes: 2000)
        m.record(Self.key(), durationMs: 7, requestBytes: 100, responseBytes: 2000)
        m.record(Self.key(code: 503), durationMs: 7000, requestBytes: 10, responseBytes: 0)
        #expect(m.requests.count == 2)
        let ok = m.requests[Self.key()]!
        #expect(ok.count == 2)
        #expect(ok.duration.buckets[0] == 1)  // <= 0.5 ms
        #expect(ok.duration.buckets[3] == 1)  // <= 10 ms
        #expect(ok.duration.sum == 7.2)
        #expect(ok.responseBytes.sum == 4000)
    }

    @Test func labelSetsAreBounded() {
        let m = StandardMetrics(maxSeries: 3)
        for i in 0..<10 { m.record(Self.key(caller: "c\(i)"), durationMs: 1, requestBytes: 1, responseBytes: 1) }
        #expect(m.requests.count == 4)  // three, and the overflow set
        #expect(m.overflowed == 7)
        let overflow = m.requests.first { $0.key.source == StandardMetrics.overflowPeer }
        #expect(overflow?.value.count == 7)
    }

    @Test func prometheusTextUsesIstiosNamesAndLabels() {
        let m = StandardMetrics()
        m.record(Self.key(), durationMs: 3, requestBytes: 100, responseBytes: 20)
        let text = StandardMetricsText.render(requests: m.requests, tcp: [:])
        let labels = #"reporter="destination",source_workload="front",source_workload_namespace="shop",source_principal="unknown",source_app="unknown",source_version="unknown",destination_workload="reviews-v1",destination_workload_namespace="shop",destination_principal="unknown",destination_app="reviews",destination_version="v1",destination_service="reviews.shop.svc.cluster.local",destination_service_name="reviews",destination_service_namespace="shop",request_protocol="http",response_code="200",grpc_response_status="",response_flags="-",connection_security_policy="none""#
        #expect(text.contains("istio_requests_total{\(labels)} 1\n"))
        #expect(text.contains("istio_request_duration_milliseconds_bucket{\(labels),le=\"1\"} 0\n"))
        #expect(text.contains("istio_request_duration_milliseconds_bucket{\(labels),le=\"5\"} 1\n"))
        #expect(text.contains("istio_request_duration_milliseconds_bucket{\(labels),le=\"3600000\"} 1\n"))
        #expect(text.contains("istio_request_duration_milliseconds_count{\(labels)} 1\n"))
        #expect(text.contains("istio_request_bytes_sum{\(labels)} 100\n"))
        #expect(text.contains("# TYPE istio_tcp_connections_opened_total counter\n"))
    }

    @Test func labelValuesAreEscaped() {
        #expect(StandardMetricsText.escape(#"a"b\c"# + "\n") == #"a\"b\\c\n"#)
    }

    @Test(arguments: [("reviews:9080", "reviews"), ("[::1]:80", "::1"), ("::1", "::1"), ("", "unknown"), ("a.b", "a.b")])
    func authorityFallback(_ authority: String, _ host: String) {
        #expect(ServiceRef.authority(authority).host == host)
    }
}
