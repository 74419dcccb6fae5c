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
    /// HTTP/2 toward clients, as Envoy's edge guidance: 100 concurrent streams, 64 KiB stream window, 1 MiB
    /// connection window. Envoy's own defaults (256 MiB stream window) let one client that grants no window make
    /// it buffer hundreds of MiB of responses; with these its buffers follow the windows.
    public var http2MaxConcurrentStreams = 100
    public var http2InitialStreamWindow = 65_536
    public var http2InitialConnectionWindow = 1_048_576

    public static let standard = HTTPLimits()
}
