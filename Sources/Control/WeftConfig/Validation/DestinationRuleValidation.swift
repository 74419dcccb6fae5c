import WeftCore

extension ResourceValidator {
    static func validateDestinationRule(_ dr: DestinationRule, _ c: inout Checker) {
        c.host(dr.host, "spec.host")
        if let tp = dr.trafficPolicy { trafficPolicy(tp, "spec.trafficPolicy", &c) }
        var names: Set<String> = []
        for (i, s) in dr.subsets.enumerated() {
            let p = "spec.subsets[\(i)]"
            if !s.name.isEmpty && !names.insert(s.name).inserted { c.error("\(p).name", "duplicate subset name '\(s.name)'") }
            c.labels(s.labels, "\(p).labels")
            if let tp = s.trafficPolicy { trafficPolicy(tp, "\(p).trafficPolicy", &c) }
        }
    }

    static func trafficPolicy(_ tp: TrafficPolicy, _ p: String, _ c: inout Checker) {
        if tp.givenEmpty { c.error(p, "traffic policy must have at least one field") }
        if tp.hasTunnel && tp.hasProxyProtocol { c.error(p, "tunnel and proxyProtocol must not be set together") }
        if let cp = tp.connectionPool { connectionPool(cp, "\(p).connectionPool", &c) }
        if let od = tp.outlierDetection {
            let o = "\(p).outlierDetection"
            c.nonNegative(od.consecutive5xxErrors, "\(o).consecutive5xxErrors")
            c.nonNegative(od.consecutiveGatewayErrors, "\(o).consecutiveGatewayErrors")
            c.nonNegative(od.consecutiveLocalOriginFailures, "\(o).consecutiveLocalOriginFailures")
            if (od.consecutiveLocalOriginFailures ?? 0) > 0 && od.splitExternalLocalOriginErrors != true {
                c.error("\(o).consecutiveLocalOriginFailures", "consecutive local origin failures is set, but splitExternalLocalOriginErrors is false")
            }
            c.duration(od.interval, "\(o).interval")
            c.duration(od.baseEjectionTime, "\(o).baseEjectionTime")
            c.percent(od.maxEjectionPercent.map(Double.init), "\(o).maxEjectionPercent")
            c.percent(od.minHealthPercent.map(Double.init), "\(o).minHealthPercent")
        }
        if let l = tp.loadBalancer?.localityLbSetting { localityLbSetting(l, "\(p).loadBalancer.localityLbSetting", &c) }
        if let lb = tp.loadBalancer, let ch = lb.consistentHash {
            c.positive(ch.minimumRingSize, "\(p).loadBalancer.consistentHash.ringHash.minimumRingSize")
            if let t = ch.maglevTableSize, !isPrime(t) {
                c.error("\(p).loadBalancer.consistentHash.maglev.tableSize", "must be a prime number, got \(t)")
            }
            if case let .cookie(name, _, _) = ch.key, name.isEmpty {
                c.error("\(p).loadBalancer.consistentHash.httpCookie.name", "must not be empty")
            }
        }
        if let tls = tp.tls {
            let t = "\(p).tls"
            if tls.mode == .MUTUAL && tls.credentialName == nil {
                if tls.clientCertificate == nil { c.error("\(t).clientCertificate", "required when mode is MUTUAL") }
                if tls.privateKey == nil { c.error("\(t).privateKey", "required when mode is MUTUAL") }
            }
            if tls.mode == .DISABLE && (tls.clientCertificate != nil || tls.caCertificates != nil) {
                c.error("\(t).mode", "certificates are set but mode is DISABLE")
            }
            if tls.insecureSkipVerify && tls.mode == .SIMPLE && (tls.caCertificates != nil || tls.credentialName != nil || !tls.subjectAltNames.isEmpty) {
                c.error("\(t).insecureSkipVerify", "cannot specify caCertificates, credentialName or subjectAltNames when insecureSkipVerify is true")
            }
            if tls.insecureSkipVerify && tls.mode == .MUTUAL && (tls.caCertificates != nil || !tls.subjectAltNames.isEmpty) {
                c.error("\(t).insecureSkipVerify", "cannot specify caCertificates or subjectAltNames when insecureSkipVerify is true")
            }
            if (tls.mode == .SIMPLE || tls.mode == .MUTUAL) && tls.credentialName != nil
                && (tls.clientCertificate != nil || tls.caCertificates != nil || tls.privateKey != nil) {
                c.error("\(t).credentialName", "cannot specify client certificates or a CA certificate when credentialName is set")
            }
        }
        if let rb = tp.retryBudget {
            c.percent(rb.percent, "\(p).retryBudget.percent.value")
            c.nonNegative(rb.minRetryConcurrency, "\(p).retryBudget.minRetryConcurrency")
        }
        var ports: Set<Int> = []
        for (i, pl) in tp.portLevelSettings.enumerated() {
            c.port(pl.port, "\(p).portLevelSettings[\(i)].port.number")
            if !ports.insert(pl.port).inserted { c.error("\(p).portLevelSettings[\(i)].port.number", "duplicate port \(pl.port)") }
            trafficPolicy(pl.policy, "\(p).portLevelSettings[\(i)]", &c)
        }
    }

    /// A connection pool (DestinationRule traffic policies and the Sidecar's inbound pool).
    static func connectionPool(_ cp: ConnectionPool, _ p: String, _ c: inout Checker) {
        let h = "\(p).http", t = "\(p).tcp"
        c.positive(cp.maxConnections, "\(t).maxConnections")
        c.duration(cp.connectTimeout, "\(t).connectTimeout")
        if cp.tcpIdleTimeout != 0 { c.duration(cp.tcpIdleTimeout, "\(t).idleTimeout") }  // 0s disables it (Istio)
        c.duration(cp.maxConnectionDuration, "\(t).maxConnectionDuration")
        c.positive(cp.http1MaxPendingRequests, "\(h).http1MaxPendingRequests")
        c.positive(cp.http2MaxRequests, "\(h).http2MaxRequests")
        c.nonNegative(cp.maxRequestsPerConnection, "\(h).maxRequestsPerConnection")
        c.nonNegative(cp.maxRetries, "\(h).maxRetries")
        c.duration(cp.httpIdleTimeout, "\(h).idleTimeout")
        c.positive(cp.maxConcurrentStreams, "\(h).maxConcurrentStreams")
        if let u = cp.h2UpgradePolicy, !["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"].contains(u) {
            c.error("\(h).h2UpgradePolicy", "'\(u)' is not one of DEFAULT, DO_NOT_UPGRADE, UPGRADE")
        }
        if !cp.hasTCP && !cp.hasHTTP { c.error(p, "connection pool must have at least one field (tcp or http)") }
        if cp.h2UpgradePolicy == "UPGRADE" && cp.useClientProtocol {
            c.error("\(h).useClientProtocol", "must not be true when h2UpgradePolicy is UPGRADE")
        }
        if let k = cp.http2KeepAlive {
            if k.interval == nil { c.error("\(h).http2KeepAlive.interval", "http2 keepalive interval is required") }
            if k.timeout == nil { c.error("\(h).http2KeepAlive.timeout", "http2 keepalive timeout is required") }
            c.duration(k.interval, "\(h).http2KeepAlive.interval")
            c.duration(k.timeout, "\(h).http2KeepAlive.timeout")
        }
    }

    static func localityLbSetting(_ l: LocalityLbSetting, _ p: String, _ c: inout Checker) {
        if !l.distribute.isEmpty && !l.failover.isEmpty { c.error(p, "set only one of distribute and failover") }
        for (i, d) in l.distribute.enumerated() {
            let dp = "\(p).distribute[\(i)]"
            if !d.from.isEmpty && !LocalityText.isValid(d.from, wildcards: true) {
                c.error("\(dp).from", "'\(d.from)' must be region, region/zone or region/zone/subzone (parts may be *)")
            }
            if d.to.isEmpty { c.error("\(dp).to", "must name at least one locality") }
            for (loc, w) in d.to.sorted(by: { $0.key < $1.key }) {
                if !LocalityText.isValid(loc, wildcards: true) {
                    c.error("\(dp).to[\"\(loc)\"]", "'\(loc)' must be region, region/zone or region/zone/subzone (parts may be *)")
                }
                if !(1...100).contains(w) { c.error("\(dp).to[\"\(loc)\"]", "locality weight must be in range [1, 100], got \(w)") }
            }
            let sum = d.to.values.reduce(0, +)
            if !d.to.isEmpty && sum != 100 { c.error("\(dp).to", "weights must add up to 100, got \(sum)") }
        }
        for (i, f) in l.failover.enumerated() {
            let fp = "\(p).failover[\(i)]"
            for (field, v) in [("from", f.from), ("to", f.to)] where !v.isEmpty && (v.contains("/") || !LocalityText.isValid(v, wildcards: false)) {
                c.error("\(fp).\(field)", "'\(v)' must be a region name")
            }
            if !f.from.isEmpty && f.from == f.to { c.error("\(fp).to", "must differ from from") }
        }
        if !l.failover.isEmpty, let label = l.failoverPriority.first(where: ZoneAwareLbSetting.topologyLabels.contains) {
            c.error("\(p).failoverPriority", "can not simultaneously set 'failover' and topology label '\(label)' in 'failoverPriority'")
        }
        for (i, label) in l.failoverPriority.enumerated() where label.isEmpty || label.contains(" ") {
            c.error("\(p).failoverPriority[\(i)]", "'\(label)' is not a label name")
        }
    }

    static func isPrime(_ n: Int) -> Bool {
        guard n > 1 else { return false }
        var i = 2
        while i * i <= n { if n % i == 0 { return false }; i += 1 }
        return true
    }
}
