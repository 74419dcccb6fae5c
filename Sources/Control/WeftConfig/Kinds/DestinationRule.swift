/// Istio DestinationRule: subsets of a service and the traffic policy for calls to it.
public struct DestinationRule: Hashable, Sendable {
    public var host: String
    public var trafficPolicy: TrafficPolicy?
    public var subsets: [Subset]
    public var exportTo: [String]
    /// Weft's active health check, from the `health.weft.dev/` annotations.
    public var healthCheck: ActiveHealthCheck?

    static func decode(_ r: ObjectReader) -> DestinationRule {
        defer { r.finish() }
        if let sel = r.object("workloadSelector") {
            _ = sel.stringMap("matchLabels")
            sel.finish()
            r.ctx.notApplied(r.sub("workloadSelector"))
        }
        if r.has("exportTo") { r.ctx.notApplied(r.sub("exportTo")) }
        return DestinationRule(
            host: r.string("host", required: true) ?? "",
            trafficPolicy: r.object("trafficPolicy").map(TrafficPolicy.decode),
            subsets: r.objects("subsets", Subset.decode),
            exportTo: r.strings("exportTo")
        )
    }
}

public struct Subset: Hashable, Sendable {
    public var name: String
    public var labels: [String: String]
    public var trafficPolicy: TrafficPolicy?

    static func decode(_ r: ObjectReader) -> Subset? {
        defer { r.finish() }
        return Subset(name: r.string("name", required: true) ?? "", labels: r.stringMap("labels"),
                      trafficPolicy: r.object("trafficPolicy").map(TrafficPolicy.decode))
    }
}

public struct TrafficPolicy: Hashable, Sendable {
    public var loadBalancer: LoadBalancer?
    public var connectionPool: ConnectionPool?
    public var outlierDetection: OutlierDetection?
    public var tls: ClientTLS?
    public var retryBudget: RetryBudget?
    public var portLevelSettings: [PortPolicy] = []
    /// Whether the policy was written with no field at all (Istio refuses `trafficPolicy: {}`).
    public var givenEmpty = false
    /// Whether `tunnel` and `proxyProtocol` were given (parsed, not applied; Istio refuses both together).
    public var hasTunnel = false, hasProxyProtocol = false

    public init(loadBalancer: LoadBalancer? = nil, connectionPool: ConnectionPool? = nil,
                outlierDetection: OutlierDetection? = nil, tls: ClientTLS? = nil) {
        self.loadBalancer = loadBalancer
        self.connectionPool = connectionPool
        self.outlierDetection = outlierDetection
        self.tls = tls
    }

    public struct PortPolicy: Hashable, Sendable {
        public var port: Int
        public var policy: TrafficPolicy
    }

    static func decode(_ r: ObjectReader) -> TrafficPolicy {
        decode(r, allowPorts: true)
    }

    static func decode(_ r: ObjectReader, allowPorts: Bool) -> TrafficPolicy {
        defer { r.finish() }
        var p = TrafficPolicy(
            loadBalancer: r.object("loadBalancer").map(LoadBalancer.decode),
            connectionPool: r.object("connectionPool").map(ConnectionPool.decode),
            outlierDetection: r.object("outlierDetection").map(OutlierDetection.decode),
            tls: r.object("tls").map(ClientTLS.decode)
        )
        p.retryBudget = r.object("retryBudget").map(RetryBudget.decode)
        for k in ["proxyProtocol", "tunnel"] where r.raw(k) != nil { r.ctx.notApplied(r.sub(k)) }
        p.givenEmpty = r.pairs.allSatisfy { $0.1 == .null }
        p.hasTunnel = r.raw("tunnel") != nil
        p.hasProxyProtocol = r.raw("proxyProtocol") != nil
        if allowPorts {
            p.portLevelSettings = r.objects("portLevelSettings") { pr -> PortPolicy? in
                var port = 0
                if let po = pr.object("port") {
                    port = po.int("number", required: true) ?? 0
                    po.finish()
                } else {
                    pr.ctx.error(pr.sub("port"), "missing required field")
                }
                return PortPolicy(port: port, policy: decode(pr, allowPorts: false))
            }
        }
        return p
    }
}

/// Istio's retry budget: retries in flight limited to a percentage of active requests, with a floor.
public struct RetryBudget: Hashable, Sendable {
    public var percent: Double?
    public var minRetryConcurrency: Int?
    public var budgetInterval: Int64?

    static func decode(_ r: ObjectReader) -> RetryBudget {
        defer { r.finish() }
        return RetryBudget(percent: r.object("percent").flatMap(decodePercent), minRetryConcurrency: r.int("minRetryConcurrency"),
                           budgetInterval: r.duration("budgetInterval"))
    }
}

public struct LoadBalancer: Hashable, Sendable {
    public enum Simple: String, CaseIterable, Sendable {
        case UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST
    }
    public enum HashKey: Hashable, Sendable {
        case header(String)
        case cookie(name: String, path: String?, ttl: Int64?)
        case sourceIP
        case queryParameter(String)
    }
    public struct ConsistentHash: Hashable, Sendable {
        public var key: HashKey
        public var minimumRingSize: Int?
        public var maglevTableSize: Int?
    }
    public var simple: Simple?
    public var consistentHash: ConsistentHash?
    public var localityLbSetting: LocalityLbSetting?
    public var warmupDuration: Int64?

    static func decode(_ r: ObjectReader) -> LoadBalancer {
        defer { r.finish() }
        var lb = LoadBalancer(simple: r.enumValue("simple", Simple.self))
        if let ch = r.object("consistentHash") {
            var keys: [HashKey] = []
            if let h = ch.string("httpHeaderName") { keys.append(.header(h)) }
            if ch.bool("useSourceIp") == true { keys.append(.sourceIP) }
            if let q = ch.string("httpQueryParameterName") { keys.append(.queryParameter(q)) }
            if let c = ch.object("httpCookie") {
                keys.append(.cookie(name: c.string("name", required: true) ?? "", path: c.string("path"), ttl: c.duration("ttl")))
                // Cookie attributes (SameSite, Secure, ...): checked as Istio does, not applied yet.
                var seen: Set<String> = []
                let attributes: [String] = c.objects("attributes") { a in
                    defer { a.finish() }
                    _ = a.string("value")
                    return a.string("name") ?? ""
                }
                if !attributes.isEmpty { c.ctx.notApplied(c.sub("attributes")) }
                for (i, n) in attributes.enumerated() {
                    if n.isEmpty { c.ctx.error(c.sub("attributes[\(i)].name"), "cookie attribute name cannot be empty") }
                    else if !seen.insert(n).inserted { c.ctx.error(c.sub("attributes[\(i)].name"), "duplicate cookie attribute name: \(n)") }
                }
                c.finish()
            }
            if keys.count != 1 {
                ch.ctx.error(ch.path, "set exactly one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName")
            }
            var ring = ch.int("minimumRingSize")
            if let rh = ch.object("ringHash") { ring = rh.int("minimumRingSize"); rh.finish() }
            var maglev: Int?
            if let m = ch.object("maglev") { maglev = m.int("tableSize"); m.finish() }
            if let key = keys.first {
                lb.consistentHash = ConsistentHash(key: key, minimumRingSize: ring, maglevTableSize: maglev)
            }
            ch.finish()
        }
        if lb.simple != nil && lb.consistentHash != nil {
            r.ctx.error(r.path, "set only one of simple and consistentHash")
        }
        lb.localityLbSetting = r.object("localityLbSetting").map(LocalityLbSetting.decode)
        lb.warmupDuration = r.duration("warmupDurationSecs")
        for k in ["warmupDurationSecs", "warmup", "zoneAwareLbSetting"] where r.has(k) { r.ctx.notApplied(r.sub(k)) }
        if let z = r.object("zoneAwareLbSetting") {
            ZoneAwareLbSetting.check(z)
            if r.has("localityLbSetting") { r.ctx.error(r.path, "only one of localityLbSetting and zoneAwareLbSetting can be set") }
        }
        if let w = r.object("warmup") {
            // Istio's WarmupConfiguration; like warmupDurationSecs, parsed and not applied yet.
            let d = w.duration("duration")
            if d == nil { w.ctx.error(w.sub("duration"), "missing required field") }
            if lb.warmupDuration == nil { lb.warmupDuration = d }
            if let m = w.object("minimumPercent") {
                if let v = m.double("value"), !(0...100).contains(v) { m.ctx.error(m.sub("value"), "percentage must be between 0 and 100, got \(v)") }
                m.finish()
            }
            if let a = w.object("aggression") {
                if let v = a.double("value"), v <= 0 { a.ctx.error(a.sub("value"), "aggression should be greater than 0, got \(v)") }
                a.finish()
            }
            w.finish()
        }
        return lb
    }
}

public struct ConnectionPool: Hashable, Sendable {
    public var maxConnections: Int?
    public var connectTimeout: Int64?
    public var tcpIdleTimeout: Int64?
    public var maxConnectionDuration: Int64?
    public var http1MaxPendingRequests: Int?
    public var http2MaxRequests: Int?
    public var maxRequestsPerConnection: Int?
    public var maxRetries: Int?
    public var httpIdleTimeout: Int64?
    public var maxConcurrentStreams: Int?
    public var h2UpgradePolicy: String?
    public var useClientProtocol = false
    /// Whether `tcp` and `http` were given at all (Istio refuses `connectionPool: {}`).
    public var hasTCP = false, hasHTTP = false
    /// `http.http2KeepAlive` (parsed and checked, not applied yet): interval and timeout, both required.
    public var http2KeepAlive: HTTP2KeepAlive?

    public struct HTTP2KeepAlive: Hashable, Sendable {
        public var interval: Int64?
        public var timeout: Int64?
    }

    static func decode(_ r: ObjectReader) -> ConnectionPool {
        defer { r.finish() }
        var cp = ConnectionPool()
        if let t = r.object("tcp") {
            cp.hasTCP = true
            cp.maxConnections = t.int("maxConnections")
            cp.connectTimeout = t.duration("connectTimeout")
            cp.tcpIdleTimeout = t.duration("idleTimeout")
            cp.maxConnectionDuration = t.duration("maxConnectionDuration")
            if t.raw("tcpKeepalive") != nil { t.ctx.notApplied(t.sub("tcpKeepalive")) }
            t.finish()
        }
        if let h = r.object("http") {
            cp.hasHTTP = true
            cp.http1MaxPendingRequests = h.int("http1MaxPendingRequests")
            cp.http2MaxRequests = h.int("http2MaxRequests")
            cp.maxRequestsPerConnection = h.int("maxRequestsPerConnection")
            cp.maxRetries = h.int("maxRetries")
            cp.httpIdleTimeout = h.duration("idleTimeout")
            cp.maxConcurrentStreams = h.int("maxConcurrentStreams")
            cp.h2UpgradePolicy = h.string("h2UpgradePolicy")
            cp.useClientProtocol = h.bool("useClientProtocol") ?? false
            if h.has("useClientProtocol") { h.ctx.notApplied(h.sub("useClientProtocol")) }
            if let k = h.object("http2KeepAlive") {
                k.ctx.notApplied(k.path)
                cp.http2KeepAlive = HTTP2KeepAlive(interval: k.duration("interval"), timeout: k.duration("timeout"))
                k.finish()
            }
            h.finish()
        }
        return cp
    }
}

public struct OutlierDetection: Hashable, Sendable {
    public var consecutive5xxErrors: Int?
    public var consecutiveGatewayErrors: Int?
    public var consecutiveLocalOriginFailures: Int?
    public var splitExternalLocalOriginErrors: Bool?
    public var interval: Int64?
    public var baseEjectionTime: Int64?
    public var maxEjectionPercent: Int?
    public var minHealthPercent: Int?

    static func decode(_ r: ObjectReader) -> OutlierDetection {
        defer { r.finish() }
        var o = OutlierDetection(
            consecutive5xxErrors: r.int("consecutive5xxErrors"),
            consecutiveGatewayErrors: r.int("consecutiveGatewayErrors"),
            consecutiveLocalOriginFailures: r.int("consecutiveLocalOriginFailures"),
            splitExternalLocalOriginErrors: r.bool("splitExternalLocalOriginErrors"),
            interval: r.duration("interval"),
            baseEjectionTime: r.duration("baseEjectionTime"),
            maxEjectionPercent: r.int("maxEjectionPercent"),
            minHealthPercent: r.int("minHealthPercent")
        )
        if let legacy = r.int("consecutiveErrors"), o.consecutive5xxErrors == nil { o.consecutive5xxErrors = legacy }
        return o
    }
}

public struct ClientTLS: Hashable, Sendable {
    public enum Mode: String, CaseIterable, Sendable { case DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL }
    public var mode: Mode
    public var clientCertificate: String?
    public var privateKey: String?
    public var caCertificates: String?
    public var credentialName: String?
    public var subjectAltNames: [String]
    public var sni: String?
    public var insecureSkipVerify: Bool

    static func decode(_ r: ObjectReader) -> ClientTLS {
        defer { r.finish() }
        return ClientTLS(
            mode: r.enumValue("mode", Mode.self) ?? .DISABLE,
            clientCertificate: r.string("clientCertificate"), privateKey: r.string("privateKey"),
            caCertificates: r.string("caCertificates"), credentialName: r.string("credentialName"),
            subjectAltNames: r.strings("subjectAltNames"), sni: r.string("sni"),
            insecureSkipVerify: r.bool("insecureSkipVerify") ?? false
        )
    }
}
