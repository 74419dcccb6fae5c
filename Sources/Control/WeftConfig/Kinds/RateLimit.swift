/// Weft's local rate limit (`policy.weft.dev/v1alpha1`, kind RateLimit): a token bucket enforced inside the
/// proxy, answering 429 with `retry-after` when empty. Either per route, at every caller's sidecar (`host`,
/// optionally narrowed to named routes of the host's VirtualService), or per workload, at the sidecars of
/// the workloads that `workloadSelector` picks (their inbound listeners).
public struct RateLimit: Hashable, Sendable {
    public struct TokenBucket: Hashable, Sendable {
        public var maxTokens: Int
        public var tokensPerFill: Int
        /// Nanoseconds.
        public var fillInterval: Int64

        public init(maxTokens: Int, tokensPerFill: Int, fillInterval: Int64) {
            self.maxTokens = maxTokens
            self.tokensPerFill = tokensPerFill
            self.fillInterval = fillInterval
        }

        /// Whole seconds until the bucket has tokens again at the latest: the `retry-after` value.
        public var retryAfterSeconds: Int { max(1, Int((fillInterval + 999_999_999) / 1_000_000_000)) }
    }

    public static let apiVersion = "policy.weft.dev/v1alpha1"

    public var host: String?
    public var routes: [String]
    public var workloadLabels: [String: String]?
    public var tokenBucket: TokenBucket
    public var statusCode: Int

    static func decode(_ r: ObjectReader) -> RateLimit {
        defer { r.finish() }
        var labels: [String: String]?
        if let ws = r.object("workloadSelector") {
            labels = ws.stringMap("labels")
            ws.finish()
        }
        var bucket = TokenBucket(maxTokens: 0, tokensPerFill: 0, fillInterval: 0)
        if let tb = r.object("tokenBucket") {
            bucket.maxTokens = tb.int("maxTokens", required: true) ?? 0
            bucket.tokensPerFill = tb.int("tokensPerFill") ?? bucket.maxTokens
            bucket.fillInterval = tb.duration("fillInterval") ?? 0
            if !tb.has("fillInterval") { r.ctx.error(tb.sub("fillInterval"), "missing required field") }
            tb.finish()
        } else {
            r.ctx.error(r.sub("tokenBucket"), "missing required field")
        }
        return RateLimit(host: r.string("host"), routes: r.strings("routes"), workloadLabels: labels, tokenBucket: bucket,
                         statusCode: r.int("statusCode") ?? 429)
    }
}
