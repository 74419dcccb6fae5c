import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftModel

/// Weft RateLimit resources as Envoy's local rate limit filter: per route (typed_per_filter_config on the
/// callers' outbound routes) or per workload (the filter on the workload's inbound listeners).
enum RateLimitBuilder {
    typealias LocalRateLimit = Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit
    static let statPrefix = "http_local_rate_limiter"

    /// The HCM filter entry; without a bucket it only acts on routes that carry a per-route config.
    static func filter(_ bucket: LocalRateLimit? = nil) -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        var base = LocalRateLimit()
        base.statPrefix = statPrefix
        return Proto.typedFilter(FilterName.localRateLimit, bucket ?? base)
    }

    static func config(_ rl: RateLimit) -> LocalRateLimit {
        var c = LocalRateLimit()
        c.statPrefix = statPrefix
        var tb = Envoy_Type_V3_TokenBucket()
        tb.maxTokens = UInt32(clamping: rl.tokenBucket.maxTokens)
        tb.tokensPerFill = Proto.u32(rl.tokenBucket.tokensPerFill)
        tb.fillInterval = Proto.duration(nanos: rl.tokenBucket.fillInterval)
        c.tokenBucket = tb
        c.filterEnabled = Proto.runtimeFraction(100)
        c.filterEnforced = Proto.runtimeFraction(100)
        c.responseHeadersToAdd = Proto.headerOptions(["retry-after": "\(rl.tokenBucket.retryAfterSeconds)"], overwrite: true)
        if rl.statusCode != 429 {
            var s = Envoy_Type_V3_HttpStatus()
            s.code = Envoy_Type_V3_StatusCode(rawValue: rl.statusCode) ?? .tooManyRequests
            c.status = s
        }
        return c
    }

    /// The filter for the proxy's inbound listeners, with the bucket of the first per-workload limit that selects
    /// the proxy (same namespace, labels included in the proxy's); nil when none does.
    static func inboundFilter(mesh: MeshState, proxy: ProxyNode) -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter? {
        let limit = mesh.workloadRateLimits.first { w in
            w.namespace == proxy.namespace && (w.limit.workloadLabels ?? [:]).allSatisfy { proxy.labels[$0.key] == $0.value }
        }
        return limit.map { filter(config($0.limit)) }
    }

    /// Attaches the host's route limits to its routes (all of them, or the named ones).
    static func apply(_ limits: [RateLimit], to routes: inout [Envoy_Config_Route_V3_Route]) {
        for i in routes.indices {
            guard let rl = limits.first(where: { $0.routes.isEmpty || $0.routes.contains(routes[i].name) }) else { continue }
            routes[i].typedPerFilterConfig[FilterName.localRateLimit] = Proto.any(config(rl))
        }
    }
}
