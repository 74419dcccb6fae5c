import Synchronization

/// Envoy's local rate limit: a token bucket shared by all of the proxy's workers (the limit is per proxy, not
/// per event loop). It starts full and refills continuously at `tokensPerFill` per `fillInterval`, up to
/// `maxTokens`, as Envoy's token bucket does. The caller passes the time, so this stays free of clocks.
public final class RateLimiter: Sendable, Equatable {
    public let maxTokens: Int
    public let tokensPerFill: Int
    /// Nanoseconds.
    public let fillInterval: Int64
    /// The answer when the bucket is empty (429 unless configured).
    public let status: Int
    public let responseHeaders: HeaderEdits
    private let state: Mutex<(tokens: Double, last: Int64?)>

    public init(maxTokens: Int, tokensPerFill: Int, fillInterval: Int64, status: Int = 429,
                responseHeaders: HeaderEdits = HeaderEdits()) {
        self.maxTokens = maxTokens
        self.tokensPerFill = tokensPerFill
        self.fillInterval = max(1, fillInterval)
        self.status = status
        self.responseHeaders = responseHeaders
        state = Mutex((Double(maxTokens), nil))
    }

    /// Takes one token; false when the bucket is empty (the request is limited).
    public func acquire(now: Int64) -> Bool {
        let rate = Double(tokensPerFill) / Double(fillInterval)
        return state.withLock { s in
            if let last = s.last, now > last {
                s.tokens = min(Double(maxTokens), s.tokens + Double(now - last) * rate)
            }
            s.last = max(now, s.last ?? now)
            guard s.tokens >= 1 else { return false }
            s.tokens -= 1
            return true
        }
    }

    /// Same settings (a new snapshot with an equal limiter keeps listeners as they are).
    public static func == (a: RateLimiter, b: RateLimiter) -> Bool {
        a.maxTokens == b.maxTokens && a.tokensPerFill == b.tokensPerFill && a.fillInterval == b.fillInterval
            && a.status == b.status && a.responseHeaders == b.responseHeaders
    }
}

/// Active health checking of a cluster's endpoints (Envoy's cluster `health_checks`, first one).
public struct HealthCheckConfig: Sendable, Equatable {
    public enum Probe: Sendable, Equatable {
        /// GET `path` with `host` as Host; healthy on a status in `expected` (default 200 only).
        case http(host: String, path: String, http2: Bool, expected: [ClosedRange<Int>])
        /// A TCP connect.
        case tcp
        /// grpc.health.v1.Health/Check for `service`; healthy when SERVING.
        case grpc(service: String, authority: String)
    }
    public var probe: Probe
    /// Nanoseconds.
    public var interval: Int64
    public var timeout: Int64
    public var unhealthyThreshold: Int
    public var healthyThreshold: Int

    public init(probe: Probe, interval: Int64, timeout: Int64, unhealthyThreshold: Int, healthyThreshold: Int) {
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
        self.unhealthyThreshold = unhealthyThreshold
        self.healthyThreshold = healthyThreshold
    }
}
