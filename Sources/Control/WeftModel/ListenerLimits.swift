/// The limits weft control writes into every listener, for Envoy and weft proxy alike (docs/HARDENING.md).
/// Envoy's defaults where it has them; a request headers timeout (Envoy has none by default; 10 s is its edge
/// guidance) so a slowloris client cannot hold connections; path normalisation as Istio's default (`BASE`);
/// a connection limit per listener and a listener-wide budget of premature stream resets (rapid reset spread
/// over many connections). Configurable mesh-wide: `weft control --limits FILE`, `options.limits` in mesh.yaml.
public struct ListenerLimits: Sendable, Equatable {
    public var maxHeadersCount = 100
    /// Request headers in KiB at most (Envoy's `max_request_headers_kb`, default 60): 431 above.
    public var maxRequestHeadersKb = 60
    public var requestHeadersTimeoutNanos: Int64 = 10_000_000_000
    public var idleTimeoutNanos: Int64 = 3_600_000_000_000
    public var streamIdleTimeoutNanos: Int64 = 300_000_000_000
    public var pathNormalization = PathNormalization.base
    /// Open downstream connections per listener; the next one is closed at once (Envoy's connection_limit
    /// network filter). 0: no limit.
    public var maxConnections = 10_000
    /// HTTP/2 toward clients, as Envoy's edge guidance: 100 concurrent streams, 64 KiB stream window, 1 MiB
    /// connection window. Envoy's own defaults (256 MiB stream window) let one client that grants no window make
    /// it buffer hundreds of MiB of responses; with these its buffers follow the windows.
    public var http2MaxConcurrentStreams = 100
    public var http2InitialStreamWindow = 65_536
    public var http2InitialConnectionWindow = 1_048_576
    /// Envoy's `per_connection_buffer_limit_bytes` (its default, written out): what a connection may buffer
    /// each way before reading from it stops.
    public var perConnectionBufferLimitBytes = 1_048_576
    /// Streams a client may reset within a second of opening them, per listener and second, over all its
    /// connections (a burst of as many); past it, a connection that resets another such stream gets GOAWAY and
    /// is closed. weft proxy reads it from the listener's `weft` metadata; Envoy has no listener-wide counter
    /// and closes a connection once half of its streams were such resets (its premature-reset check).
    public var prematureResetsPerSecond = 200

    public init() {}

    public static let standard = ListenerLimits()
}

/// Istio's MeshConfig `pathNormalization.normalization` values that Weft implements.
public enum PathNormalization: String, Sendable, CaseIterable {
    /// No normalisation.
    case none = "NONE"
    /// RFC 3986 normalisation (`.`/`..` segments, percent-encoded dots): Istio's default.
    case base = "BASE"
    /// BASE, and runs of `/` merged into one.
    case mergeSlashes = "MERGE_SLASHES"

    public var normalizes: Bool { self != .none }
    public var mergesSlashes: Bool { self == .mergeSlashes }
}
