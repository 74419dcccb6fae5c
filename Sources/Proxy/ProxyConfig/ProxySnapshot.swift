/// Everything a `weft proxy` runs with, swapped whole when xDS changes. A request keeps the snapshot it
/// started with.
public struct ProxySnapshot: Sendable {
    public var listeners: [String: ListenerConfig]
    public var routeTables: [String: RouteTable]
    public var clusters: [String: ClusterConfig]
    /// Version strings of what was applied, by xDS type URL (for /config_dump and ACKs).
    public var versions: [String: String]
    /// Every cluster has its endpoints and every listener its routes (nothing is still being fetched).
    public var warm = true

    public init(listeners: [String: ListenerConfig] = [:], routeTables: [String: RouteTable] = [:],
                clusters: [String: ClusterConfig] = [:], versions: [String: String] = [:]) {
        self.listeners = listeners
        self.routeTables = routeTables
        self.clusters = clusters
        self.versions = versions
    }
}

/// A listening socket and what runs on it.
public struct ListenerConfig: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// HTTP connection manager with a route table by name (from RDS) or inline.
        case http(routeTable: String, statPrefix: String)
        /// TCP proxy to weighted clusters.
        case tcp(clusters: [WeightedCluster], statPrefix: String)
    }
    public var name: String
    public var host: String
    public var port: Int
    public var kind: Kind
    /// Limits and request handling of an HTTP listener (its HTTP connection manager's options).
    public var http = HTTPConnectionSettings()
    /// Open connections at most; the next is closed at once (Envoy's connection_limit network filter).
    public var maxConnections: Int?
    /// Mesh mTLS on this (inbound) listener; nil: plaintext only.
    public var meshTLS: DownstreamMeshTLS?
    /// Envoy's network RBAC filters (`envoy.filters.network.rbac`), in order, checked once per connection when it is
    /// ready (after the TLS handshake); a denied connection is closed before anything is proxied.
    public var networkRBAC: [RBACFilterConfig] = []
    /// An authorization rule reads the TLS server name, so TLS connections have their ClientHello's SNI read.
    public var readsServerName = false
    /// How its requests and connections are labelled in Istio's standard metrics; nil: not recorded (a listener
    /// from a control plane that sends no `weft.peer` metadata).
    public var telemetry: ListenerTelemetry?

    public init(name: String, host: String, port: Int, kind: Kind, http: HTTPConnectionSettings = HTTPConnectionSettings()) {
        self.name = name
        self.host = host
        self.port = port
        self.kind = kind
        self.http = http
    }
}

/// What an HTTP connection manager enforces on its connections and requests, with Envoy's defaults for what
/// xDS leaves out.
public struct HTTPConnectionSettings: Sendable, Equatable {
    /// More request headers than this get 431 (`common_http_protocol_options.max_headers_count`, Envoy: 100).
    public var maxHeadersCount = 100
    /// Request line and headers larger than this get 431 (`max_request_headers_kb`, Envoy: 60 KiB).
    public var maxRequestHeadersBytes = 60 * 1024
    /// A request whose headers take longer than this, from their first byte, is answered 408 and its connection
    /// closed (`request_headers_timeout`; Envoy: none).
    public var requestHeadersTimeout: Duration?
    /// A connection with no request in flight for this long is closed (`common_http_protocol_options.idle_timeout`,
    /// Envoy: 1 h).
    public var idleTimeout: Duration? = .seconds(3600)
    /// A request with no bytes in either direction for this long is ended (`stream_idle_timeout`, Envoy: 5 min).
    public var streamIdleTimeout: Duration? = .seconds(300)
    /// RFC 3986 path normalisation (`.` and `..` segments, percent-encoded dots) before routing (`normalize_path`).
    public var normalizePath = false
    /// Runs of slashes in the path become one (`merge_slashes`).
    public var mergeSlashes = false
    /// HTTP/2 toward clients (`http2_protocol_options`): concurrent streams a client may open, and the window
    /// each stream starts with (how much of a request body the proxy takes before the upstream does).
    public var http2MaxConcurrentStreams = 1024
    public var http2InitialStreamWindow = 1 << 20
    /// Streams clients may reset within a second of opening them, per second over all the listener's
    /// connections (listener metadata `weft.premature_resets_per_second`); past it the connection that resets
    /// gets GOAWAY and is closed. nil: no listener-wide budget.
    public var prematureResetsPerSecond: Int?
    /// What a connection may hold of responses not yet taken by the client (`per_connection_buffer_limit_bytes`,
    /// Envoy: 1 MiB): above it the upstreams of its streams stop being read.
    public var connectionBufferLimit = 1 << 20

    public init() {}
}
