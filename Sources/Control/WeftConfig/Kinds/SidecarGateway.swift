/// A listener port of a Sidecar or a Gateway server: number (0 or unset with a unix socket bind), protocol, name.
public struct ListenerPort: Hashable, Sendable {
    public var number: Int
    public var `protocol`: String
    public var name: String
    public var targetPort: Int?

    static func decode(_ r: ObjectReader) -> ListenerPort {
        defer { r.finish() }
        return ListenerPort(number: r.int("number") ?? 0, protocol: r.string("protocol") ?? "", name: r.string("name") ?? "",
                            targetPort: r.int("targetPort"))
    }

    /// Istio's protocol.Parse: the known names, any case; nil when unsupported.
    public var parsedProtocol: PortProtocol? { PortProtocol(rawValue: self.protocol.uppercased()) }
}

/// Istio's ServerTLSSettings (Gateway servers, Sidecar ingress listeners): checked, not applied yet.
public struct ServerTLS: Hashable, Sendable {
    public struct CertPair: Hashable, Sendable {
        public var cert: String
        public var key: String
    }
    /// PASSTHROUGH when unset (the zero value of Istio's enum).
    public var mode = "PASSTHROUGH"
    public var serverCertificate = "", privateKey = "", caCertificates = "", caCrl = "", credentialName = ""
    public var credentialNames: [String] = []
    public var tlsCertificates: [CertPair] = []
    public var subjectAltNames: [String] = []
    public var httpsRedirect = false
    public var cipherSuites: [String] = []
    public var minProtocolVersion = ""

    static let modes = ["PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"]

    static func decode(_ r: ObjectReader) -> ServerTLS {
        defer { r.finish() }
        var t = ServerTLS()
        if let m = r.string("mode") {
            if modes.contains(m) { t.mode = m } else { r.ctx.error(r.sub("mode"), "'\(m)' is not one of \(modes.joined(separator: ", "))") }
        }
        t.httpsRedirect = r.bool("httpsRedirect") ?? false
        t.serverCertificate = r.string("serverCertificate") ?? ""
        t.privateKey = r.string("privateKey") ?? ""
        t.caCertificates = r.string("caCertificates") ?? ""
        t.caCrl = r.string("caCrl") ?? ""
        t.credentialName = r.string("credentialName") ?? ""
        t.credentialNames = r.strings("credentialNames")
        t.tlsCertificates = r.objects("tlsCertificates") { c in
            defer { c.finish() }
            _ = c.string("caCertificates")
            return CertPair(cert: c.string("serverCertificate") ?? "", key: c.string("privateKey") ?? "")
        }
        t.subjectAltNames = r.strings("subjectAltNames")
        t.cipherSuites = r.strings("cipherSuites")
        t.minProtocolVersion = r.string("minProtocolVersion") ?? ""
        _ = r.string("maxProtocolVersion")
        for k in ["verifyCertificateSpki", "verifyCertificateHash"] { _ = r.strings(k) }
        return t
    }
}

/// Istio Sidecar: scopes what a proxy sees. Parsed and checked as Istio does; applied by a later issue.
public struct Sidecar: Hashable, Sendable {
    public struct Egress: Hashable, Sendable {
        public var port: ListenerPort?
        public var bind: String?
        public var captureMode: String?
        public var hosts: [String]
    }
    public struct Ingress: Hashable, Sendable {
        public var port: ListenerPort?
        public var bind: String?
        public var defaultEndpoint: String?
        public var tls: ServerTLS?
        public var connectionPool: ConnectionPool?
    }
    public var workloadSelector: [String: String]?
    public var egress: [Egress]
    public var ingress: [Ingress] = []
    public var outboundTrafficPolicyMode: String?
    public var egressProxy: Destination?
    /// The pool of the workload's inbound connections (parsed and checked; applied with config scoping).
    public var inboundConnectionPool: ConnectionPool?

    static func decode(_ r: ObjectReader) -> Sidecar {
        defer { r.finish() }
        var selector: [String: String]?
        if let ws = r.object("workloadSelector") { selector = ws.stringMap("labels"); ws.finish() }
        let egress: [Egress] = r.objects("egress") { e in
            defer { e.finish() }
            return Egress(port: e.object("port").map(ListenerPort.decode), bind: e.string("bind"), captureMode: e.string("captureMode"),
                          hosts: e.strings("hosts"))
        }
        let ingress: [Ingress] = r.objects("ingress") { i in
            defer { i.finish() }
            _ = i.string("captureMode")
            return Ingress(port: i.object("port").map(ListenerPort.decode), bind: i.string("bind"), defaultEndpoint: i.string("defaultEndpoint"),
                           tls: i.object("tls").map(ServerTLS.decode), connectionPool: i.object("connectionPool").map(ConnectionPool.decode))
        }
        var mode: String?, proxy: Destination?
        if let o = r.object("outboundTrafficPolicy") {
            mode = o.string("mode")
            proxy = o.object("egressProxy").flatMap(Destination.decode)
            o.finish()
        }
        var sc = Sidecar(workloadSelector: selector, egress: egress, outboundTrafficPolicyMode: mode,
                         inboundConnectionPool: r.object("inboundConnectionPool").map(ConnectionPool.decode))
        sc.ingress = ingress
        sc.egressProxy = proxy
        return sc
    }
}

/// Istio Gateway: a load balancer at the mesh edge. Parsed and checked as Istio does; applied by a later issue.
public struct Gateway: Hashable, Sendable {
    public struct Server: Hashable, Sendable {
        public var port: ListenerPort?
        public var bind: String?
        public var hosts: [String]
        public var name: String?
        public var tls: ServerTLS?
        public var tlsMode: String? { tls?.mode }
    }
    public var selector: [String: String]
    public var servers: [Server]

    static func decode(_ r: ObjectReader) -> Gateway {
        defer { r.finish() }
        let servers: [Server] = r.objects("servers") { s in
            defer { s.finish() }
            _ = s.string("defaultEndpoint")
            return Server(port: s.object("port").map(ListenerPort.decode), bind: s.string("bind"), hosts: s.strings("hosts"),
                          name: s.string("name"), tls: s.object("tls").map(ServerTLS.decode))
        }
        return Gateway(selector: r.stringMap("selector"), servers: servers)
    }
}
