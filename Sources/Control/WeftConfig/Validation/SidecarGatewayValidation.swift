import WeftCore

/// Istio's ValidateSidecar and ValidateGateway (pkg/config/validation).
extension ResourceValidator {
    static func validateSidecar(_ sc: Sidecar, _ c: inout Checker) {
        if let sel = sc.workloadSelector {
            if sel.isEmpty { c.warn("spec.workloadSelector.labels", "no labels: applies to every workload in the namespace") }
            c.labels(sel, "spec.workloadSelector.labels")
        }
        if sc.egress.isEmpty && sc.ingress.isEmpty && sc.outboundTrafficPolicyMode == nil && sc.egressProxy == nil && sc.inboundConnectionPool == nil {
            c.error("spec", "sidecar: empty configuration provided")
            return
        }
        var ingressPorts: Set<Int> = []
        for (i, ing) in sc.ingress.enumerated() {
            let p = "spec.ingress[\(i)]"
            guard let port = ing.port else { c.error("\(p).port", "sidecar: port is required for ingress listeners"); continue }
            if (port.targetPort ?? 0) > 0 { c.error("\(p).port.targetPort", "targetPort has no impact on Sidecars") }
            listenerPort(port, "\(p).port", allowEmptyProtocol: true, &c)
            c.port(port.number, "\(p).port.number")
            if port.number == 0 { c.error("\(p).port.number", "port number 0 must be in the range 1..65535") }
            if let b = ing.bind, !b.isEmpty, !IPAddressText.isIP(b) { c.error("\(p).bind", "\(b) is not a valid IP") }
            if !ingressPorts.insert(port.number).inserted { c.error("\(p).port.number", "sidecar: ports on IP bound listeners must be unique") }
            if let e = ing.defaultEndpoint, !e.isEmpty { defaultEndpoint(e, "\(p).defaultEndpoint", &c) }
            if let t = ing.tls {
                let tp = "\(p).tls"
                if !t.subjectAltNames.isEmpty { c.error("\(tp).subjectAltNames", "sidecar: subjectAltNames is not supported in ingress tls") }
                if t.httpsRedirect { c.error("\(tp).httpsRedirect", "sidecar: httpsRedirect is not supported") }
                if !t.credentialName.isEmpty { c.error("\(tp).credentialName", "sidecar: credentialName is not currently supported") }
                if !t.credentialNames.isEmpty { c.error("\(tp).credentialNames", "sidecar: credentialNames is not currently supported") }
                if !t.tlsCertificates.isEmpty { c.error("\(tp).tlsCertificates", "sidecar: tlsCertificates is not currently supported") }
                if t.mode == "ISTIO_MUTUAL" || t.mode == "AUTO_PASSTHROUGH" {
                    c.error("\(tp).mode", "cannot set mode to \(t.mode) in sidecar ingress tls")
                }
                if !(port.parsedProtocol?.isTLS ?? false) { c.error(tp, "server cannot have TLS settings for non HTTPS/TLS ports") }
                serverTLS(t, tp, &c)
            }
            if let cp = ing.connectionPool { connectionPool(cp, "\(p).connectionPool", &c) }
        }
        if let cp = sc.inboundConnectionPool { connectionPool(cp, "spec.inboundConnectionPool", &c) }
        var egressPorts: Set<Int> = [], sockets: Set<String> = [], catchAll = false
        for (i, e) in sc.egress.enumerated() {
            let p = "spec.egress[\(i)]"
            if let port = e.port {
                if (port.targetPort ?? 0) > 0 { c.error("\(p).port.targetPort", "targetPort has no impact on Sidecars") }
                listenerPort(port, "\(p).port", allowEmptyProtocol: true, &c)
                let bind = e.bind ?? ""
                if port.number == 0 {
                    if !bind.hasPrefix("unix://") {
                        c.error("\(p).bind", "sidecar: ports with 0 value must have a unix domain socket bind address")
                    } else {
                        unixAddress(String(bind.dropFirst("unix://".count)), "\(p).bind", &c)
                    }
                    if let m = e.captureMode, m != "DEFAULT" && m != "NONE" {
                        c.error("\(p).captureMode", "sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners")
                    }
                    if !sockets.insert(bind).inserted { c.error("\(p).bind", "sidecar: unix domain socket values for listeners must be unique") }
                } else {
                    c.port(port.number, "\(p).port.number")
                    if !bind.isEmpty && !IPAddressText.isIP(bind) { c.error("\(p).bind", "\(bind) is not a valid IP") }
                    if !egressPorts.insert(port.number).inserted { c.error("\(p).port.number", "sidecar: ports on IP bound listeners must be unique") }
                }
            } else if catchAll {
                c.error("\(p).port", "sidecar: egress can have only one listener with empty port")
                continue
            } else if i == sc.egress.count - 1 {
                catchAll = true
            } else {
                c.error("\(p).port", "sidecar: the egress listener with empty port should be the last listener in the list")
            }
            if let m = e.captureMode, !["DEFAULT", "IPTABLES", "NONE"].contains(m) {
                c.error("\(p).captureMode", "'\(m)' is not one of DEFAULT, IPTABLES, NONE")
            }
            if e.hosts.isEmpty { c.error("\(p).hosts", "sidecar: egress listener must contain at least one host") }
            for (j, h) in e.hosts.enumerated() { namespacedHost(h, "\(p).hosts[\(j)]", gateway: false, &c) }
        }
        if let m = sc.outboundTrafficPolicyMode, m != "ALLOW_ANY" && m != "REGISTRY_ONLY" {
            c.error("spec.outboundTrafficPolicy.mode", m == "ALLOW_ANY_DYNAMIC_DNS"
                ? "sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig, not in Sidecar resource"
                : "'\(m)' is not one of ALLOW_ANY, REGISTRY_ONLY")
        }
        if let proxy = sc.egressProxy {
            let p = "spec.outboundTrafficPolicy.egressProxy"
            if sc.outboundTrafficPolicyMode != "ALLOW_ANY" {
                c.error(p, "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode")
            } else {
                if !isFQDN(proxy.host) { c.error("\(p).host", "'\(proxy.host)' is not a fully qualified domain name") }
                if proxy.port == nil { c.error("\(p).port", "sidecar: egress_proxy port must be non-nil") } else { destination(proxy, p, &c) }
            }
        }
    }

    /// `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT`, `:PORT` or `unix://PATH`.
    static func defaultEndpoint(_ e: String, _ p: String, _ c: inout Checker) {
        if e.hasPrefix("unix://") { unixAddress(String(e.dropFirst("unix://".count)), p, &c); return }
        guard let hp = try? HostPort(parsing: e.hasPrefix(":") ? "0.0.0.0" + e : e) else {
            c.error(p, "'\(e)' must be of form 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port> or unix://<path>")
            return
        }
        if !["127.0.0.1", "0.0.0.0", "::1", "::"].contains(hp.host) {
            c.error(p, "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset")
        }
        c.port(hp.port, p)
    }

    /// Istio's ValidateUnixAddress: an absolute path to a file, or an abstract socket (`@name`).
    static func unixAddress(_ path: String, _ p: String, _ c: inout Checker) {
        if path.isEmpty { c.error(p, "unix address must not be empty") }
        else if !path.hasPrefix("@") && (!path.hasPrefix("/") || path.hasSuffix("/")) { c.error(p, "\(path) is not an absolute path to a file") }
    }

    /// Sidecar ports (`allowEmptyProtocol`: sniffed) have DNS-1123 names when named; a Gateway's name is free text.
    static func listenerPort(_ port: ListenerPort, _ p: String, allowEmptyProtocol: Bool, _ c: inout Checker) {
        if allowEmptyProtocol && !port.name.isEmpty && !KubernetesName.isLabel(port.name) { c.error("\(p).name", "invalid port name: \(port.name) (a DNS-1123 label)") }
        if !(allowEmptyProtocol && port.protocol.isEmpty) && port.parsedProtocol == nil {
            c.error("\(p).protocol", "unsupported protocol '\(port.protocol)' (HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TCP, TLS, MONGO, REDIS, MYSQL, UDP)")
        }
    }

    static func validateGateway(_ gw: Gateway, name: String, _ c: inout Checker) {
        if !KubernetesName.isLabel(name) { c.error("metadata.name", "invalid gateway name: '\(name)' (a DNS-1123 label, no dots)") }
        if gw.servers.isEmpty { c.error("spec.servers", "gateway must have at least one server") }
        var portNames: Set<String> = []
        for (i, s) in gw.servers.enumerated() {
            let p = "spec.servers[\(i)]"
            if s.hosts.isEmpty { c.error("\(p).hosts", "server config must contain at least one host") }
            for (j, h) in s.hosts.enumerated() { namespacedHost(h, "\(p).hosts[\(j)]", gateway: true, &c) }
            let bind = s.bind ?? ""
            var portOK = false
            if let port = s.port {
                let before = c.diagnostics.count
                listenerPort(port, "\(p).port", allowEmptyProtocol: false, &c)
                if port.number > 0 || !bind.hasPrefix("unix://") { c.port(port.number, "\(p).port.number") }
                if port.number == 0 && !bind.hasPrefix("unix://") { c.error("\(p).port.number", "port number 0 must be in the range 1..65535") }
                if (port.targetPort ?? 0) > 0 { c.error("\(p).port.targetPort", "targetPort has no impact on Gateways") }
                if port.name.isEmpty { c.error("\(p).port.name", "port name must be set") }
                portOK = c.diagnostics.count == before
                if !portNames.insert(port.name).inserted { c.error("\(p).port.name", "port names in servers must be unique: duplicate name \(port.name)") }
                if s.tls?.httpsRedirect == true && !(port.parsedProtocol?.isHTTP ?? false) {
                    c.warn("\(p).tls.httpsRedirect", "tls.httpsRedirect should only be used with http servers")
                }
            } else {
                c.error("\(p).port", "port is required")
            }
            if bind.hasPrefix("unix://") {
                unixAddress(String(bind.dropFirst("unix://".count)), "\(p).bind", &c)
                if let n = s.port?.number, n != 0 { c.error("\(p).port.number", "port number must be 0 for unix domain socket") }
            } else if !bind.isEmpty && !IPAddressText.isIP(bind) {
                c.error("\(p).bind", "\(bind) is not a valid IP")
            }
            if let t = s.tls { serverTLS(t, "\(p).tls", &c) }
            if portOK, let proto = s.port?.parsedProtocol {
                if proto.isTLS && s.tls == nil {
                    c.error("\(p).tls", "server must have TLS settings for HTTPS/TLS protocols")
                } else if !proto.isTLS, let t = s.tls {
                    // A plain HTTP server may only redirect to HTTPS.
                    let redirectOnly = t.httpsRedirect && t.caCertificates.isEmpty && t.privateKey.isEmpty && t.serverCertificate.isEmpty
                    if !proto.isHTTP { c.error("\(p).tls", "server cannot have TLS settings for non HTTPS/TLS ports") }
                    else if !redirectOnly { c.error("\(p).tls", "server cannot have TLS settings for plain text HTTP ports") }
                }
            }
        }
    }

    /// Istio's validateTLSOptions for a server's TLS settings.
    static func serverTLS(_ t: ServerTLS, _ p: String, _ c: inout Checker) {
        if t.mode == "ISTIO_MUTUAL" {
            for (field, set) in [("serverCertificate", !t.serverCertificate.isEmpty), ("privateKey", !t.privateKey.isEmpty),
                                 ("caCertificates", !t.caCertificates.isEmpty), ("tlsCertificates", !t.tlsCertificates.isEmpty),
                                 ("credentialName", !t.credentialName.isEmpty), ("credentialNames", !t.credentialNames.isEmpty)] where set {
                c.error("\(p).\(field)", "ISTIO_MUTUAL TLS cannot have an associated \(field)")
            }
            return
        }
        if t.mode == "PASSTHROUGH" || t.mode == "AUTO_PASSTHROUGH" {
            if !(t.caCrl + t.serverCertificate + t.privateKey + t.caCertificates + t.credentialName).isEmpty
                || !t.tlsCertificates.isEmpty || !t.credentialNames.isEmpty {
                c.warn(p, "\(t.mode) mode does not use certificates, they will be ignored")
            }
        }
        let sources = [!t.serverCertificate.isEmpty && !t.privateKey.isEmpty, !t.credentialName.isEmpty, !t.credentialNames.isEmpty,
                       !t.tlsCertificates.isEmpty].filter { $0 }.count
        if sources > 1 { c.error(p, "only one of credentialName, credentialNames, serverCertificate/privateKey, tlsCertificates should be specified") }
        let terminating = ["SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"].contains(t.mode)
        if terminating && (!t.credentialName.isEmpty || !t.credentialNames.isEmpty) { return }
        if terminating {
            let prefix = t.mode == "SIMPLE" ? "SIMPLE TLS" : "MUTUAL TLS"
            if t.mode != "SIMPLE" && t.caCertificates.isEmpty { c.error("\(p).caCertificates", "\(prefix) requires a client CA bundle") }
            if t.tlsCertificates.count > 2 { c.warn("\(p).tlsCertificates", "\(prefix) can support up to 2 server certificates") }
            let pairs = t.tlsCertificates.isEmpty ? [ServerTLS.CertPair(cert: t.serverCertificate, key: t.privateKey)] : t.tlsCertificates
            for pair in pairs {
                if pair.cert.isEmpty { c.error("\(p).serverCertificate", "\(prefix) requires a server certificate") }
                if pair.key.isEmpty { c.error("\(p).privateKey", "\(prefix) requires a private key") }
            }
        }
        if !t.caCrl.isEmpty {
            if !t.credentialName.isEmpty { c.error("\(p).caCrl", "CRL is not supported with credentialName. CRL has to be specified in the credential") }
            if t.mode == "SIMPLE" { c.error("\(p).caCrl", "CRL is not supported with SIMPLE TLS") }
        }
    }

    /// Istio's `namespace/host` (ValidateNamespaceSlashWildcardHostname). Sidecar: namespace `*`, `.` or a name,
    /// each optionally `~`-prefixed to exclude it (`~/*` imports nothing). Gateway: `*`, `.` or a name, and a bare
    /// host (the old style) is allowed. The host must be fully qualified or `*`, with no partial wildcard.
    static func namespacedHost(_ h: String, _ p: String, gateway: Bool, _ c: inout Checker) {
        let parts = h.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            if gateway { hostPart(h, p, gateway: true, &c) } else { c.error(p, "'\(h)' must be namespace/host") }
            return
        }
        if parts[0].isEmpty || parts[1].isEmpty { c.error(p, "config namespace and dnsName in host entry cannot be empty"); return }
        let ns = gateway ? parts[0] : String(parts[0].drop { $0 == "~" })
        if !(ns.isEmpty && !gateway) && ns != "*" && ns != "." && !ResourceDecoder.isDNSLabelish(ns) {
            c.error(p, "invalid namespace value '\(parts[0])' in \(gateway ? "gateway" : "sidecar") (a name, '*' or '.'\(gateway ? "" : ", optionally after '~'"))")
        }
        hostPart(parts[1], p, gateway: gateway, &c)
    }

    static func hostPart(_ h: String, _ p: String, gateway: Bool, _ c: inout Checker) {
        if h != "*" && !h.contains(".") && !(gateway && IPAddressText.isIP(h)) {
            c.error(p, "short names (non FQDN) are not allowed: '\(h)'")
        }
        if h.contains("*") && h != "*" && !h.hasPrefix("*.") { c.error(p, "partial wildcard '\(h)' not allowed"); return }
        if !(gateway && IPAddressText.isIP(h)) { c.host(h, p) }
    }
}
