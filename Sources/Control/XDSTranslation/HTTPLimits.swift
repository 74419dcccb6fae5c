/// The limits weft control writes into every HTTP connection manager, for Envoy and weft proxy alike. Envoy's
/// defaults where it has them; a request headers timeout (Envoy has none by default; 10 s is its edge guidance)
/// so a slowloris client cannot hold connections; path normalisation as Istio's default (`BASE`: RFC 3986
/// normalisation, no slash merging).
public struct HTTPLimits: Sendable, Equatable {
    public var maxHeadersCount = 100
    public var requestHeadersTimeoutNanos: Int64 = 10_000_000_000
    public var idleTimeoutNanos: Int64 = 3_600_000_000_000
    public var streamIdleTimeoutNanos: Int64 = 300_000_000_000
    public var normalizePath = true
    public var mergeSlashes = false

    public static let standard = HTTPLimits()
}
