import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftCore
import WeftModel

/// Builds the proxy's listeners: the explicit outbound HTTP proxy, one outbound TCP listener per TCP service
/// port, and inbound listeners that forward to the local app.
struct ListenerBuilder {
    let mesh: MeshState
    let proxy: ProxyNode

    typealias Listener = Envoy_Config_Listener_V3_Listener
    typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager

    func outbound() -> [Listener] {
        guard let addr = proxy.outbound else { return [] }
        var rds = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds()
        rds.configSource = Proto.adsSource()
        rds.routeConfigName = Translator.outboundRouteName
        var hcm = hcm(statPrefix: "outbound_http", rateLimit: mesh.routeRateLimits.isEmpty ? nil : RateLimitBuilder.filter())
        hcm.rds = rds
        observe(&hcm, server: false)
        var out = [listener(name: "outbound_http", address: addr, filter: Proto.networkFilter(FilterName.hcm, hcm), direction: .outbound)]
        out += tcpListeners(host: addr.host, taken: addr.port)
        return out
    }

    /// TCP services are reached at the outbound address's host on the service's own port (first service wins a port).
    func tcpListeners(host: String, taken: Int) -> [Listener] {
        var used: Set<Int> = [taken]
        var out: [Listener] = []
        for h in mesh.services.keys.sorted() {
            let s = mesh.services[h]!
            for p in s.ports where !p.protocol.isHTTP && used.insert(p.number).inserted {
                var tcp = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy()
                tcp.statPrefix = "outbound_tcp_\(p.number)"
                tcp.accessLog = AccessLogBuilder.logs(telemetry(server: false).accessLogs)
                let clusters = tcpRoute(service: s, port: p.number)
                if clusters.count == 1 {
                    tcp.cluster = clusters[0].0
                } else {
                    var wc = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.WeightedCluster()
                    wc.clusters = clusters.map { name, weight in
                        var cw = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.WeightedCluster.ClusterWeight()
                        cw.name = name
                        cw.weight = UInt32(weight)
                        return cw
                    }
                    tcp.weightedClusters = wc
                }
                out.append(listener(name: "outbound_tcp|\(p.number)|\(h)", address: HostPort(host: host, port: p.number),
                                         filter: Proto.networkFilter(FilterName.tcpProxy, tcp), direction: .outbound))
            }
        }
        return out
    }

    /// The first matching tcp route of the service's VirtualService, as (cluster, weight) pairs.
    func tcpRoute(service: Service, port: Int) -> [(String, Int)] {
        let fallback = [(ClusterName.outbound(host: service.host, port: port), 100)]
        guard let (ns, vs) = mesh.virtualServices[service.host] else { return fallback }
        let actions = RouteActionBuilder(mesh: mesh, namespace: ns, port: port)
        for route in vs.tcp where route.match.isEmpty || route.match.contains(where: { ($0.port ?? port) == port }) {
            return route.route.map { (actions.target($0.destination).cluster, $0.weight ?? 100) }
        }
        return fallback
    }

    func inbound() -> ([Listener], [Envoy_Config_Cluster_V3_Cluster]) {
        var listeners: [Listener] = []
        var clusters: [Envoy_Config_Cluster_V3_Cluster] = []
        for ib in proxy.inbound {
            let name = ClusterName.inbound(port: ib.listen.port)
            var c = Envoy_Config_Cluster_V3_Cluster()
            c.name = name
            c.type = .static
            c.connectTimeout = Proto.duration(nanos: ClusterBuilder.defaultConnectTimeout)
            c.loadAssignment = EndpointBuilder.assignment(cluster: name, endpoints: [Endpoint(address: ib.app.host, port: ib.app.port)])
            c.metadata = TelemetryMetadata.cluster(services: TelemetryMetadata.inboundServices(mesh: mesh, ib))
            if ib.http2, let options = ClusterBuilder.protocolOptions(port: ServicePort(number: ib.listen.port, name: "grpc", protocol: .GRPC), pool: nil) {
                c.typedExtensionProtocolOptions[FilterName.httpProtocolOptions] = Proto.any(options)
            }
            clusters.append(c)
            listeners.append(inboundListener(ib, cluster: name))
        }
        return (listeners, clusters)
    }

    /// An inbound listener as the workload's PeerAuthentication says: STRICT takes only mTLS, DISABLE only
    /// plaintext, PERMISSIVE both on the same port (Envoy's tls_inspector tells them apart by the first bytes).
    func inboundListener(_ ib: ProxyNode.Inbound, cluster name: String) -> Listener {
        let mode = proxy.speaksMeshTLS
            ? mesh.mutualTLS.mode(namespace: proxy.namespace, labels: proxy.labels, ports: [ib.listen.port, ib.app.port])
            : .DISABLE
        var chains: [Envoy_Config_Listener_V3_FilterChain] = []
        let authz = AuthzBuilder(mesh: mesh, proxy: proxy, ports: [ib.listen.port, ib.app.port], tcp: ib.tcp)
        let rbac = ib.tcp ? authz.networkFilters(statPrefix: "inbound_tcp_\(ib.listen.port).") : []
        if mode != .DISABLE {
            var tls = chain(inboundFilter(ib, cluster: name, mutualTLS: true), before: rbac)
            tls.name = "inbound-mtls"
            var m = Envoy_Config_Listener_V3_FilterChainMatch()
            m.transportProtocol = "tls"
            tls.filterChainMatch = m
            tls.transportSocket = MeshTLSBuilder.downstream(alpn: ib.tcp ? [] : ["h2", "http/1.1"])
            chains.append(tls)
        }
        if mode != .STRICT {
            var plain = chain(inboundFilter(ib, cluster: name, mutualTLS: false), before: rbac)
            if mode == .PERMISSIVE {
                plain.name = "inbound-plaintext"
                var m = Envoy_Config_Listener_V3_FilterChainMatch()
                m.transportProtocol = "raw_buffer"
                plain.filterChainMatch = m
            }
            chains.append(plain)
        }
        var l = listener(name: "inbound|\(ib.listen)", address: ib.listen, chains: chains, direction: .inbound)
        if mode != .DISABLE {
            l.listenerFilters = [Proto.listenerFilter(FilterName.tlsInspector, Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector())]
        }
        return l
    }

    /// The inbound TCP proxy or HTTP connection manager to the local app. Over mTLS the app gets the caller's
    /// SPIFFE ID in `x-forwarded-client-cert` (`By=` this workload, `URI=` the caller); any such header a
    /// caller sent is replaced, and plaintext callers' are removed.
    func inboundFilter(_ ib: ProxyNode.Inbound, cluster name: String, mutualTLS: Bool) -> Envoy_Config_Listener_V3_Filter {
        if ib.tcp {
            var tcp = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy()
            tcp.statPrefix = "inbound_tcp_\(ib.listen.port)"
            tcp.cluster = name
            tcp.accessLog = AccessLogBuilder.logs(telemetry(server: true).accessLogs)
            return Proto.networkFilter(FilterName.tcpProxy, tcp)
        } else {
            var route = Envoy_Config_Route_V3_Route()
            var m = Envoy_Config_Route_V3_RouteMatch()
            m.prefix = "/"
            route.match = m
            var a = Envoy_Config_Route_V3_RouteAction()
            a.cluster = name
            a.timeout = Proto.seconds(0)
            var ws = Envoy_Config_Route_V3_RouteAction.UpgradeConfig()
            ws.upgradeType = "websocket"
            a.upgradeConfigs = [ws]
            route.route = a
            var vh = Envoy_Config_Route_V3_VirtualHost()
            vh.name = "inbound|\(ib.listen.port)"
            vh.domains = ["*"]
            vh.routes = [route]
            var rc = Envoy_Config_Route_V3_RouteConfiguration()
            rc.name = "inbound|\(ib.listen.port)"
            rc.virtualHosts = [vh]
            TelemetryMetadata.inbound(&rc, peer: TelemetryMetadata.peer(mesh: mesh, proxy: proxy))
            var hcm = hcm(statPrefix: "inbound_\(ib.listen.port)", rateLimit: RateLimitBuilder.inboundFilter(mesh: mesh, proxy: proxy))
            // Authentication, then authorization (AUDIT, DENY, ALLOW), before everything else, as Istio orders them.
            let authn = JWTAuthnBuilder.filter(mesh: mesh, proxy: proxy).map { [$0] } ?? []
            let authz = AuthzBuilder(mesh: mesh, proxy: proxy, ports: [ib.listen.port, ib.app.port], tcp: false).httpFilters()
            hcm.httpFilters.insert(contentsOf: authn + authz, at: 0)
            hcm.routeConfig = rc
            observe(&hcm, server: true)
            if mutualTLS {
                hcm.forwardClientCertDetails = .sanitizeSet
                var details = HCM.SetCurrentClientCertDetails()
                details.uri = true
                hcm.setCurrentClientCertDetails = details
            }
            return Proto.networkFilter(FilterName.hcm, hcm)
        }
    }

    /// The Telemetry that applies to this proxy's client (outbound) or server (inbound) side.
    func telemetry(server: Bool) -> TelemetryPolicies.Effective {
        mesh.telemetry.effective(namespace: proxy.namespace, labels: proxy.labels, server: server, selectors: mesh.access)
    }

    /// Access logs and tracing of an HTTP connection manager, from Telemetry.
    func observe(_ hcm: inout HCM, server: Bool) {
        let t = telemetry(server: server)
        hcm.accessLog = AccessLogBuilder.logs(t.accessLogs)
        if let tracing = t.tracing { hcm.tracing = TracingBuilder.tracing(tracing, serviceName: tracingServiceName) }
    }

    /// The service name on this proxy's spans, as Istio's: the workload's app (or proxy id) and namespace.
    var tracingServiceName: String { "\(proxy.labels["app"] ?? proxy.labels["service.istio.io/canonical-name"] ?? proxy.id).\(proxy.namespace)" }

    /// An HTTP connection manager; `rateLimit` (the local rate limit filter) goes first when given.
    func hcm(statPrefix: String, rateLimit: Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter? = nil) -> HCM {
        var hcm = HCM()
        hcm.statPrefix = statPrefix
        hcm.codecType = .auto
        var h1 = Envoy_Config_Core_V3_Http1ProtocolOptions()
        h1.allowAbsoluteURL = Google_Protobuf_BoolValue(true)
        h1.acceptHTTP10 = true
        hcm.httpProtocolOptions = h1
        var ws = HCM.UpgradeConfig()
        ws.upgradeType = "websocket"
        hcm.upgradeConfigs = [ws]
        Self.applyLimits(&hcm, mesh.limits)
        hcm.httpFilters = [
            Proto.typedFilter(FilterName.fault, Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault()),
            Proto.typedFilter(FilterName.cors, Envoy_Extensions_Filters_Http_Cors_V3_Cors()),
            Proto.typedFilter(FilterName.router, Envoy_Extensions_Filters_Http_Router_V3_Router()),
        ]
        if let rateLimit { hcm.httpFilters.insert(rateLimit, at: 0) }
        return hcm
    }

    /// Limits every HTTP connection manager carries (docs/HARDENING.md): Envoy's defaults written out, plus a
    /// request headers timeout against slowloris and Istio's default path normalisation (BASE).
    static func applyLimits(_ hcm: inout HCM, _ l: ListenerLimits) {
        var common = Envoy_Config_Core_V3_HttpProtocolOptions()
        common.idleTimeout = Proto.duration(nanos: l.idleTimeoutNanos)
        common.maxHeadersCount = Proto.u32(l.maxHeadersCount)
        hcm.commonHTTPProtocolOptions = common
        hcm.maxRequestHeadersKb = Proto.u32(l.maxRequestHeadersKb)
        hcm.streamIdleTimeout = Proto.duration(nanos: l.streamIdleTimeoutNanos)
        hcm.requestHeadersTimeout = Proto.duration(nanos: l.requestHeadersTimeoutNanos)
        hcm.normalizePath = Google_Protobuf_BoolValue(l.pathNormalization.normalizes)
        hcm.mergeSlashes = l.pathNormalization.mergesSlashes
        var h2 = Envoy_Config_Core_V3_Http2ProtocolOptions()
        h2.maxConcurrentStreams = Proto.u32(l.http2MaxConcurrentStreams)
        h2.initialStreamWindowSize = Proto.u32(l.http2InitialStreamWindow)
        h2.initialConnectionWindowSize = Proto.u32(l.http2InitialConnectionWindow)
        hcm.http2ProtocolOptions = h2
    }

    /// Envoy, and a weft proxy that says so; an older weft proxy would refuse the listener.
    var acceptsConnectionLimit: Bool {
        proxy.userAgent != WeftClientFeature.userAgent || proxy.clientFeatures.contains(WeftClientFeature.connectionLimit)
    }

    /// A listener with one filter chain around `filter`.
    func listener(name: String, address: HostPort, filter: Envoy_Config_Listener_V3_Filter,
                  direction: Envoy_Config_Core_V3_TrafficDirection) -> Listener {
        listener(name: name, address: address, chains: [chain(filter)], direction: direction)
    }

    /// A filter chain: the connection limit (when set), `before` (network RBAC), then `filter`.
    func chain(_ filter: Envoy_Config_Listener_V3_Filter, before: [Envoy_Config_Listener_V3_Filter] = []) -> Envoy_Config_Listener_V3_FilterChain {
        var chain = Envoy_Config_Listener_V3_FilterChain()
        if mesh.limits.maxConnections > 0 && acceptsConnectionLimit {
            var cl = Envoy_Extensions_Filters_Network_ConnectionLimit_V3_ConnectionLimit()
            cl.statPrefix = "connection_limit"
            cl.maxConnections = Google_Protobuf_UInt64Value(UInt64(mesh.limits.maxConnections))
            chain.filters.append(Proto.networkFilter(FilterName.connectionLimit, cl))
        }
        chain.filters += before
        chain.filters.append(filter)
        return chain
    }

    /// A listener with `chains`, the per-connection buffer limit, and in `weft` metadata what only weft proxy
    /// reads (its listener-wide reset budget).
    func listener(name: String, address: HostPort, chains: [Envoy_Config_Listener_V3_FilterChain],
                  direction: Envoy_Config_Core_V3_TrafficDirection) -> Listener {
        var l = Listener()
        l.name = name
        l.address = Proto.address(address)
        l.filterChains = chains
        l.trafficDirection = direction
        l.perConnectionBufferLimitBytes = Proto.u32(mesh.limits.perConnectionBufferLimitBytes)
        l.metadata = ListenerMetadata.weft(mesh.limits, peer: TelemetryMetadata.peer(mesh: mesh, proxy: proxy),
                                           overrides: telemetry(server: direction == .inbound).metricOverrides)
        return l
    }
}
