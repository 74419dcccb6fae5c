import ProxyConfig
import Synchronization

/// Envoy's token bucket for the local rate limit, shared by all of the proxy's workers (the limit is per proxy,
/// not per event loop). It starts full and refills continuously at `tokensPerFill` per `fillInterval`, up to
/// `maxTokens`, as Envoy's does. The caller passes the time, so this stays free of clocks.
public final class RateLimiter: Sendable {
    public let policy: LocalRateLimitPolicy
    /// Tokens per nanosecond.
    private let rate: Double
    private let state: Mutex<(tokens: Double, last: ContinuousClock.Instant?)>

    public init(_ policy: LocalRateLimitPolicy) {
        self.policy = policy
        let interval = max(1, Self.nanoseconds(policy.fillInterval))
        rate = Double(policy.tokensPerFill) / interval
        state = Mutex((Double(policy.maxTokens), nil))
    }

    /// Takes one token; false when the bucket is empty (the request is limited).
    public func acquire(now: ContinuousClock.Instant) -> Bool {
        state.withLock { s in
            if let last = s.last, now > last {
                s.tokens = min(Double(policy.maxTokens), s.tokens + Self.nanoseconds(now - last) * rate)
            }
            s.last = max(now, s.last ?? now)
            guard s.tokens >= 1 else { return false }
            s.tokens -= 1
            return true
        }
    }

    static func nanoseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
    }
}
