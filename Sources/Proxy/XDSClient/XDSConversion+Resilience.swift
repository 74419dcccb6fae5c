import EnvoyAPI
import ProxyConfig
import ProxyRouting
import SwiftProtobuf

/// Local rate limits (per route and per listener) and active health checks.
extension XDSConversion {
    typealias LocalRateLimit = Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit

    /// A local_ratelimit config as the filter's settings; nil when it has no bucket or is not enforced (Envoy's shadow mode
    /// only counts, and weft proxy keeps no such counters).
    static func rateLimit(_ any: Google_Protobuf_Any) throws -> LocalRateLimitPolicy? {
        let c = try Convert.unpack(any, as: LocalRateLimit.self)
        guard c.hasTokenBucket else { return nil }
        if c.localRateLimitPerDownstreamConnection {
            throw FieldError("local_rate_limit_per_downstream_connection is not supported", at: ["local_rate_limit_per_downstream_connection"])
        }
        func share(_ r: Envoy_Config_Core_V3_RuntimeFractionalPercent, _ name: String, set: Bool) throws -> Int {
            guard set else { return 0 }
            let m = try field(name) { try field("default_value") { try Convert.perMillion(r.defaultValue) } }
            guard m == 0 || m == 1_000_000 else { throw FieldError("only 0% or 100% is supported", at: [name, "default_value"]) }
            return m
        }
        let enabled = try share(c.filterEnabled, "filter_enabled", set: c.hasFilterEnabled)
        let enforced = try share(c.filterEnforced, "filter_enforced", set: c.hasFilterEnforced)
        guard enabled > 0, enforced > 0 else { return nil }
        let tb = c.tokenBucket
        guard tb.maxTokens > 0 else { throw FieldError("must be at least 1", at: ["token_bucket", "max_tokens"]) }
        let perFill = tb.hasTokensPerFill ? Int(tb.tokensPerFill.value) : 1
        guard perFill > 0 else { throw FieldError("must be at least 1", at: ["token_bucket", "tokens_per_fill"]) }
        let interval = try field("token_bucket") { try field("fill_interval") { try Convert.duration(tb.fillInterval) } }
        guard interval >= .milliseconds(50) else { throw FieldError("must be at least 50ms", at: ["token_bucket", "fill_interval"]) }
        let code = c.hasStatus ? c.status.code.rawValue : 429
        let headers = try headerEdits(add: c.responseHeadersToAdd, remove: [], addField: "response_headers_to_add")
        return LocalRateLimitPolicy(maxTokens: Int(tb.maxTokens), tokensPerFill: perFill, fillInterval: interval,
                                    status: code < 400 ? 429 : code, responseHeaders: headers)
    }

    /// The cluster's first active health check (Envoy runs every one listed; Weft's translation writes one).
    static func healthCheck(_ list: [Envoy_Config_Core_V3_HealthCheck]) throws -> HealthCheckConfig? {
        guard let h = list.first else { return nil }
        if list.count > 1 { throw FieldError("only one health check per cluster is supported", at: ["health_checks"]) }
        return try field("health_checks[0]") {
            let interval = try field("interval") { try Convert.duration(h.interval) }
            let timeout = try field("timeout") { try Convert.duration(h.timeout) }
            guard interval > .zero else { throw FieldError("must be positive", at: ["interval"]) }
            guard timeout > .zero else { throw FieldError("must be positive", at: ["timeout"]) }
            guard h.hasUnhealthyThreshold, h.hasHealthyThreshold else {
                throw FieldError("unhealthy_threshold and healthy_threshold are required", at: [h.hasUnhealthyThreshold ? "healthy_threshold" : "unhealthy_threshold"])
            }
            let probe: HealthCheckConfig.Probe
            switch h.healthChecker {
            case let .httpHealthCheck(x)?:
                guard x.path.hasPrefix("/") else { throw FieldError("must start with /", at: ["http_health_check", "path"]) }
                var expected = try x.expectedStatuses.enumerated().map { i, r -> ClosedRange<Int> in
                    guard r.start >= 100, r.end <= 600, r.start < r.end else {
                        throw FieldError("a range within [100, 600) is required", at: ["http_health_check", "expected_statuses[\(i)]"])
                    }
                    return Int(r.start)...Int(r.end - 1)
                }
                if expected.isEmpty { expected = [200...200] }
                probe = .http(host: x.host, path: x.path, http2: x.codecClientType == .http2, expected: expected)
            case let .tcpHealthCheck(t)?:
                if t.hasSend || !t.receive.isEmpty { throw FieldError("send/receive payloads are not supported", at: ["tcp_health_check"]) }
                probe = .tcp
            case let .grpcHealthCheck(g)?:
                probe = .grpc(service: g.serviceName, authority: g.authority)
            case nil:
                throw FieldError("one of http_health_check, tcp_health_check, grpc_health_check is required")
            }
            return HealthCheckConfig(probe: probe, interval: interval, timeout: timeout,
                                     unhealthyThreshold: max(1, Int(h.unhealthyThreshold.value)),
                                     healthyThreshold: max(1, Int(h.healthyThreshold.value)))
        }
    }
}
