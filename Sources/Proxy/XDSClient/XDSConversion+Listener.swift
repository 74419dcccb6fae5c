import EnvoyAPI
import ProxyConfig
import ProxyRouting
import SwiftProtobuf

/// A converted LDS listener, plus the route table it uses: an RDS name to subscribe to, or an inline table.
public struct ConvertedListener: Sendable {
    public var config: ListenerConfig
    /// The RDS route configuration this listener needs (nil for TCP and inline routes).
    public var rdsName: String?
    /// An inline route configuration, registered in the snapshot under `XDSConversion.inlineRouteName(listener:)`,
    /// its filter chains compiled.
    public var inlineRoutes: RouteTable?
    /// The HTTP filters weft proxy runs for this listener, in the order of its `http_filters` (router excluded).
    public var filterOrder: [String] = []
    /// The HTTP connection manager sets the caller's SPIFFE ID in x-forwarded-client-cert (on a `tls` chain).
    public var forwardClientCert = false
    /// The access logs and tracing of its connection manager or TCP proxy.
    public var accessLogs: [AccessLogConfig] = []
    public var tracing: TracingConfig?
}

extension XDSConversion {
    typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
    typealias TcpProxy = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy
    typealias ConnectionLimit = Envoy_Extensions_Filters_Network_ConnectionLimit_V3_ConnectionLimit

    /// The snapshot key of a listener's inline route configuration.
    public static func inlineRouteName(listener: String) -> String { "inline:" + listener }

    /// Converts an LDS Listener with one filter chain holding one HTTP connection manager or TCP proxy.
    public static func listener(_ l: Envoy_Config_Listener_V3_Listener) throws(XDSConversionError) -> ConvertedListener {
        try converting("Listener \(l.name)") { try listenerFields(l) }
    }

    static func listenerFields(_ l: Envoy_Config_Listener_V3_Listener) throws -> ConvertedListener {
        guard !l.name.isEmpty else { throw FieldError("name is empty", at: ["name"]) }
        let (host, port) = try field("address") { try socketAddress(l.address) }
        try listenerFilters(l.listenerFilters)
        if l.hasDefaultFilterChain { throw FieldError("default_filter_chain is not supported", at: ["default_filter_chain"]) }
        if l.useOriginalDst.value { throw FieldError("use_original_dst is not supported", at: ["use_original_dst"]) }
        if l.hasBindToPort && !l.bindToPort.value { throw FieldError("bind_to_port: false is not supported", at: ["bind_to_port"]) }
        // One plaintext chain; or mesh mTLS: a `tls` chain alone (STRICT) or with a `raw_buffer` one (PERMISSIVE).
        let chains = l.filterChains
        let tlsIndex = chains.firstIndex { $0.filterChainMatch.transportProtocol == "tls" }
        let plainIndex = chains.firstIndex { $0.filterChainMatch.transportProtocol != "tls" }
        guard chains.count == 1 || (chains.count == 2 && tlsIndex != nil && plainIndex != nil) else {
            throw FieldError("need one filter chain, or a `tls` chain with at most one `raw_buffer` chain; got \(chains.count)", at: ["filter_chains"])
        }
        if tlsIndex != nil && l.listenerFilters.isEmpty {
            throw FieldError("a `tls` filter chain needs the tls_inspector listener filter", at: ["listener_filters"])
        }
        var out: ConvertedListener
        if let t = tlsIndex {
            out = try field("filter_chains[\(t)]") { try chainFields(chains[t], l.name, host, port, tls: true) }
            let alpn = try field("filter_chains[\(t)].transport_socket") { try downstreamTLS(chains[t].transportSocket) }
            var permissive = false
            if let p = plainIndex {
                let plain = try field("filter_chains[\(p)]") { try chainFields(chains[p], l.name, host, port, tls: false) }
                guard plain.config.kind == out.config.kind, plain.config.maxConnections == out.config.maxConnections,
                      plain.config.networkRBAC == out.config.networkRBAC, plain.inlineRoutes?.filterSettings[FilterName.rbac] as? RBACSettings
                        == out.inlineRoutes?.filterSettings[FilterName.rbac] as? RBACSettings else {
                    throw FieldError("the `raw_buffer` chain must run the same filters as the `tls` chain", at: ["filter_chains[\(p)]"])
                }
                permissive = true
                out.config.readsServerName = out.config.readsServerName || plain.config.readsServerName
            }
            out.config.meshTLS = DownstreamMeshTLS(permissive: permissive, alpn: alpn, forwardClientCert: out.forwardClientCert)
        } else {
            out = try field("filter_chains[0]") { try chainFields(chains[0], l.name, host, port, tls: false) }
        }
        if l.hasPerConnectionBufferLimitBytes {
            let n = Int(l.perConnectionBufferLimitBytes.value)
            guard n >= 1024 else { throw FieldError("must be at least 1024", at: ["per_connection_buffer_limit_bytes"]) }
            out.config.http.connectionBufferLimit = n
        }
        out.config.http.prematureResetsPerSecond = try field("metadata") { try resetBudget(l.metadata) }
        out.config.telemetry = try listenerTelemetry(l, accessLogs: out.accessLogs, tracing: out.tracing)
        return out
    }

    /// `filter_metadata.weft.premature_resets_per_second` (a whole number >= 0; 0 or absent: no budget).
    static func resetBudget(_ m: Envoy_Config_Core_V3_Metadata) throws -> Int? {
        guard let v = m.filterMetadata[WeftListenerMetadata.key]?.fields[WeftListenerMetadata.prematureResetsPerSecond] else { return nil }
        guard case let .numberValue(n)? = v.kind, n >= 0, n < 1e12, n.rounded() == n else {
            throw FieldError("must be a whole number of at least 0", at: ["filter_metadata", WeftListenerMetadata.key, WeftListenerMetadata.prematureResetsPerSecond])
        }
        return n == 0 ? nil : Int(n)
    }

    static func connectionLimit(_ c: ConnectionLimit) throws -> Int {
        guard c.hasMaxConnections, c.maxConnections.value >= 1 else { throw FieldError("must be at least 1", at: ["max_connections"]) }
        if c.hasDelay { throw FieldError("a delay before closing is not supported", at: ["delay"]) }
        return Int(clamping: c.maxConnections.value)
    }

    static func httpListener(_ name: String, _ host: String, _ port: Int, _ hcm: HCM, tls: Bool = false) throws -> ConvertedListener {
        if case .http3 = hcm.codecType { throw FieldError("HTTP/3 is not supported", at: ["codec_type"]) }
        let filters = try httpFilters(hcm.httpFilters, statPrefix: hcm.statPrefix)
        let settings = try connectionSettings(hcm)
        let converted: ConvertedListener
        switch hcm.routeSpecifier {
        case let .rds(rds)?:
            if let f = filters.listenerWide.keys.sorted().first {
                throw FieldError("a listener-wide \(f) needs an inline route_config (use per-route config with rds)", at: ["http_filters"])
            }
            guard !rds.routeConfigName.isEmpty else { throw FieldError("route_config_name is empty", at: ["rds", "route_config_name"]) }
            guard !rds.hasConfigSource || isADS(rds.configSource) else {
                throw FieldError("only ADS is supported as the RDS config source", at: ["rds", "config_source"])
            }
            converted = ConvertedListener(config: ListenerConfig(name: name, host: host, port: port,
                                                                 kind: .http(routeTable: rds.routeConfigName, statPrefix: hcm.statPrefix)),
                                          rdsName: rds.routeConfigName, filterOrder: filters.order)
        case let .routeConfig(rc)?:
            var table = try field("route_config") { try routeTableFields(rc) }
            table.filterSettings.merge(filters.listenerWide) { $1 }
            converted = ConvertedListener(config: ListenerConfig(name: name, host: host, port: port,
                                                                 kind: .http(routeTable: inlineRouteName(listener: name), statPrefix: hcm.statPrefix)),
                                          inlineRoutes: HTTPFilterRegistry.compile(table, order: filters.order), filterOrder: filters.order)
        case nil: throw FieldError("an HTTP connection manager needs rds or route_config")
        }
        var out = converted
        out.config.http = settings
        out.config.readsServerName = filters.readsServerName
        out.forwardClientCert = try forwardClientCert(hcm, tls: tls)
        out.accessLogs = try accessLogs(hcm.accessLog)
        if hcm.hasTracing { out.tracing = try field("tracing") { try tracing(hcm.tracing) } }
        return out
    }

    /// The connection manager's limits and request handling, with Envoy's defaults for what is not set (a zero
    /// timeout disables it, as in Envoy).
    static func connectionSettings(_ hcm: HCM) throws -> HTTPConnectionSettings {
        var s = HTTPConnectionSettings()
        func timeout(_ set: Bool, _ d: Google_Protobuf_Duration, _ name: String, default value: Duration?) throws -> Duration? {
            guard set else { return value }
            let t = try field(name) { try Convert.duration(d) }
            return t == .zero ? nil : t
        }
        if hcm.hasMaxRequestHeadersKb {
            let kb = Int(hcm.maxRequestHeadersKb.value)
            guard (1...8192).contains(kb) else { throw FieldError("must be between 1 and 8192", at: ["max_request_headers_kb"]) }
            s.maxRequestHeadersBytes = kb * 1024
        }
        s.requestHeadersTimeout = try timeout(hcm.hasRequestHeadersTimeout, hcm.requestHeadersTimeout, "request_headers_timeout", default: nil)
        s.streamIdleTimeout = try timeout(hcm.hasStreamIdleTimeout, hcm.streamIdleTimeout, "stream_idle_timeout", default: s.streamIdleTimeout)
        if hcm.hasCommonHTTPProtocolOptions {
            let o = hcm.commonHTTPProtocolOptions
            s.idleTimeout = try timeout(o.hasIdleTimeout, o.idleTimeout, "common_http_protocol_options.idle_timeout", default: s.idleTimeout)
            if o.hasMaxHeadersCount {
                guard o.maxHeadersCount.value >= 1 else {
                    throw FieldError("must be at least 1", at: ["common_http_protocol_options", "max_headers_count"])
                }
                s.maxHeadersCount = Int(o.maxHeadersCount.value)
            }
        }
        if hcm.hasHTTP2ProtocolOptions {
            let h2 = hcm.http2ProtocolOptions
            if h2.hasMaxConcurrentStreams {
                guard h2.maxConcurrentStreams.value >= 1 else {
                    throw FieldError("must be at least 1", at: ["http2_protocol_options", "max_concurrent_streams"])
                }
                s.http2MaxConcurrentStreams = Int(h2.maxConcurrentStreams.value)
            }
            if h2.hasInitialStreamWindowSize {
                let w = Int(h2.initialStreamWindowSize.value)
                guard (65_535...2_147_483_647).contains(w) else {
                    throw FieldError("must be between 65535 and 2147483647", at: ["http2_protocol_options", "initial_stream_window_size"])
                }
                s.http2InitialStreamWindow = w
            }
        }
        s.normalizePath = hcm.hasNormalizePath && hcm.normalizePath.value
        s.mergeSlashes = hcm.mergeSlashes
        return s
    }

    /// What an HTTP connection manager's `http_filters` make: the listener-wide settings by filter name, and the
    /// order of the filters weft proxy runs (router excluded; disabled ones included: a route may enable them).
    struct HTTPFilterSet {
        var listenerWide: [String: any HTTPFilterSettings] = [:]
        var order: [String] = []
        /// An RBAC rule reads the TLS server name.
        var readsServerName = false
    }

    /// The HTTP filters the proxy runs itself: JWT authentication, RBAC (one or more instances, adjacent: they run
    /// as one filter where the first stands), local rate limit, fault (per route), CORS (ignored for now) and the
    /// router, last. `statPrefix` is the connection manager's (RBAC's counters live under it).
    static func httpFilters(_ filters: [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter], statPrefix: String) throws
        -> HTTPFilterSet {
        var out = HTTPFilterSet()
        var rbac: [RBACFilterConfig] = []
        guard filters.last?.name == FilterName.router else {
            throw FieldError("the last HTTP filter must be \(FilterName.router)", at: ["http_filters"])
        }
        let enabled = filters.enumerated().filter { !$0.element.disabled }
        for (position, (i, f)) in enabled.enumerated() {
            try field("http_filters[\(i)]") {
                switch f.name {
                case FilterName.router, FilterName.cors: break
                case FilterName.localRateLimit:
                    if case let .typedConfig(any)? = f.configType { out.listenerWide[f.name] = try field("typed_config") { try rateLimit(any) } }
                case FilterName.fault:
                    if case let .typedConfig(any)? = f.configType, !(try field("typed_config") { try faultIsEmpty(any) }) {
                        throw FieldError("a listener-wide fault is not supported (use per-route typed_per_filter_config)", at: ["typed_config"])
                    }
                case FilterName.rbac:
                    if !rbac.isEmpty, enabled[position - 1].element.name != FilterName.rbac {
                        throw FieldError("the \(FilterName.rbac) filters must be adjacent in http_filters", at: ["name"])
                    }
                    guard case let .typedConfig(any)? = f.configType else { throw FieldError("typed_config is missing") }
                    rbac.append(try field("typed_config") { try httpRBAC(any, statPrefix: statPrefix) })
                case FilterName.jwtAuthn:
                    guard out.listenerWide[f.name] == nil else { throw FieldError("only one \(FilterName.jwtAuthn) filter is supported", at: ["name"]) }
                    guard case let .typedConfig(any)? = f.configType else { throw FieldError("typed_config is missing") }
                    out.listenerWide[f.name] = try field("typed_config") { try jwtAuthn(any, statPrefix: statPrefix) }
                default:
                    if !f.isOptional { throw FieldError("unsupported HTTP filter '\(f.name)'", at: ["name"]) }
                }
            }
        }
        if !rbac.isEmpty {
            out.listenerWide[FilterName.rbac] = RBACSettings(instances: rbac)
            out.readsServerName = rbac.contains(where: \.readsServerName)
        }
        var seen: Set<String> = []
        out.order = filters.map(\.name).filter { HTTPFilterRegistry.knows($0) && seen.insert($0).inserted }
        return out
    }

    static func tcpListener(_ name: String, _ host: String, _ port: Int, _ tcp: TcpProxy) throws -> ConvertedListener {
        if tcp.hasMetadataMatch { throw FieldError("metadata_match is not supported", at: ["metadata_match"]) }
        let clusters: [WeightedCluster]
        switch tcp.clusterSpecifier {
        case let .cluster(c)?:
            guard !c.isEmpty else { throw FieldError("cluster name is empty", at: ["cluster"]) }
            clusters = [WeightedCluster(name: c)]
        case let .weightedClusters(wc)?:
            clusters = try each("weighted_clusters.clusters", wc.clusters) { cw -> WeightedCluster in
                guard !cw.name.isEmpty else { throw FieldError("cluster name is empty", at: ["name"]) }
                if cw.hasMetadataMatch { throw FieldError("metadata_match is not supported", at: ["metadata_match"]) }
                return WeightedCluster(name: cw.name, weight: Int(cw.weight))
            }
            guard clusters.reduce(0, { $0 + $1.weight }) > 0 else { throw FieldError("weights sum to 0", at: ["weighted_clusters"]) }
        case nil: throw FieldError("tcp_proxy needs cluster or weighted_clusters")
        }
        // idle_timeout and max_connect_attempts are left to the data path's defaults.
        var out = ConvertedListener(config: ListenerConfig(name: name, host: host, port: port,
                                                           kind: .tcp(clusters: clusters, statPrefix: tcp.statPrefix)))
        out.accessLogs = try accessLogs(tcp.accessLog)
        return out
    }
}
