/// Istio ServiceEntry: declares a service (hosts and ports) and where its endpoints come from.
public struct ServiceEntry: Hashable, Sendable {
    public enum Location: String, CaseIterable, Sendable { case MESH_EXTERNAL, MESH_INTERNAL }
    /// DYNAMIC_DNS (Envoy's dynamic forward proxy) is accepted and checked as Istio does, not applied yet.
    public enum Resolution: String, CaseIterable, Sendable { case NONE, STATIC, DNS, DNS_ROUND_ROBIN, DYNAMIC_DNS }

    public var hosts: [String]
    public var addresses: [String]
    public var ports: [ServicePort]
    public var location: Location
    public var resolution: Resolution
    public var endpoints: [WorkloadEntry]
    /// Labels of WorkloadEntries (and registered workloads) that back this service.
    public var workloadSelector: [String: String]?
    public var exportTo: [String]
    public var subjectAltNames: [String]

    static func decode(_ r: ObjectReader) -> ServiceEntry {
        defer { r.finish() }
        var selector: [String: String]?
        if let ws = r.object("workloadSelector") {
            selector = ws.stringMap("labels")
            ws.finish()
        }
        for k in ["addresses", "exportTo", "subjectAltNames"] where r.has(k) { r.ctx.notApplied(r.sub(k)) }
        return ServiceEntry(
            hosts: r.strings("hosts"), addresses: r.strings("addresses"),
            ports: r.objects("ports", ServicePort.decode),
            location: r.enumValue("location", Location.self) ?? .MESH_EXTERNAL,
            resolution: r.enumValue("resolution", Resolution.self) ?? .NONE,
            endpoints: r.objects("endpoints", WorkloadEntry.decode),
            workloadSelector: selector, exportTo: r.strings("exportTo"),
            subjectAltNames: r.strings("subjectAltNames")
        )
    }
}

/// The protocol of a service port, as Istio names it.
public enum PortProtocol: String, CaseIterable, Sendable, Codable {
    case HTTP, HTTPS, GRPC, HTTP2, TCP, TLS, MONGO, MYSQL, REDIS, UDP
    /// Routed by HTTP routes (HTTP/1, HTTP/2 and gRPC); the rest are routed as TCP.
    public var isHTTP: Bool { self == .HTTP || self == .GRPC || self == .HTTP2 }
    public var isHTTP2: Bool { self == .GRPC || self == .HTTP2 }
}

/// A port of a service: number, name and protocol.
public struct ServicePort: Hashable, Sendable, Codable {
    public var number: Int
    public var name: String
    public var `protocol`: PortProtocol
    public var targetPort: Int?

    public init(number: Int, name: String, protocol: PortProtocol, targetPort: Int? = nil) {
        self.number = number
        self.name = name
        self.protocol = `protocol`
        self.targetPort = targetPort
    }

    static func decode(_ r: ObjectReader) -> ServicePort? {
        defer { r.finish() }
        let number = r.int("number", required: true) ?? 0
        let name = r.string("name") ?? ""
        var proto = PortProtocol.TCP
        if let p = r.string("protocol") {
            if let v = PortProtocol(rawValue: p.uppercased()) { proto = v } else {
                r.ctx.error(r.sub("protocol"), "'\(p)' is not one of \(PortProtocol.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        } else if let guessed = PortProtocol.allCases.first(where: { name.lowercased().hasPrefix($0.rawValue.lowercased()) }) {
            proto = guessed  // Istio's port-name convention: http-web, grpc-api, ...
        }
        return ServicePort(number: number, name: name, protocol: proto, targetPort: r.int("targetPort"))
    }
}

/// Istio WorkloadEntry: one VM or process instance with its address, labels and named ports.
public struct WorkloadEntry: Hashable, Sendable {
    public var address: String
    public var ports: [String: Int]
    public var labels: [String: String]
    public var network: String?
    public var locality: String?
    public var weight: Int?
    public var serviceAccount: String?

    public init(address: String, ports: [String: Int], labels: [String: String], network: String? = nil, locality: String? = nil,
                weight: Int? = nil, serviceAccount: String? = nil) {
        self.address = address
        self.ports = ports
        self.labels = labels
        self.network = network
        self.locality = locality
        self.weight = weight
        self.serviceAccount = serviceAccount
    }

    static func decode(_ r: ObjectReader) -> WorkloadEntry? {
        defer { r.finish() }
        var ports: [String: Int] = [:]
        if let p = r.object("ports") {
            for (k, _) in p.pairs { if let n = p.int(k) { ports[k] = n } }
            p.finish()
        }
        for k in ["network", "serviceAccount"] where r.has(k) { r.ctx.notApplied(r.sub(k)) }
        return WorkloadEntry(address: r.string("address") ?? "", ports: ports, labels: r.stringMap("labels"),
                             network: r.string("network"), locality: r.string("locality"),
                             weight: r.int("weight"), serviceAccount: r.string("serviceAccount"))
    }
}

/// Istio Sidecar: scopes what a proxy sees. Parsed and validated now; applied by a later issue.
public struct Sidecar: Hashable, Sendable {
    public struct Egress: Hashable, Sendable {
        public var port: Int?
        public var bind: String?
        public var hosts: [String]
    }
    public var workloadSelector: [String: String]?
    public var egress: [Egress]
    public var outboundTrafficPolicyMode: String?
    /// The pool of the workload's inbound connections (parsed and checked; applied with config scoping).
    public var inboundConnectionPool: ConnectionPool?

    static func decode(_ r: ObjectReader) -> Sidecar {
        defer { r.finish() }
        var selector: [String: String]?
        if let ws = r.object("workloadSelector") { selector = ws.stringMap("labels"); ws.finish() }
        let egress: [Egress] = r.objects("egress") { e in
            defer { e.finish() }
            var port: Int?
            if let p = e.object("port") {
                port = p.int("number")
                _ = p.string("protocol"); _ = p.string("name"); _ = p.int("targetPort")
                p.finish()
            }
            _ = e.string("captureMode")
            return Egress(port: port, bind: e.string("bind"), hosts: e.strings("hosts"))
        }
        _ = r.raw("ingress")
        var mode: String?
        if let o = r.object("outboundTrafficPolicy") { mode = o.string("mode"); _ = o.raw("egressProxy"); o.finish() }
        return Sidecar(workloadSelector: selector, egress: egress, outboundTrafficPolicyMode: mode,
                       inboundConnectionPool: r.object("inboundConnectionPool").map(ConnectionPool.decode))
    }
}

/// Istio Gateway: a load balancer at the mesh edge. Parsed and validated now; applied by a later issue.
public struct Gateway: Hashable, Sendable {
    public struct Server: Hashable, Sendable {
        public var port: ServicePort?
        public var hosts: [String]
        public var name: String?
        public var tlsMode: String?
    }
    public var selector: [String: String]
    public var servers: [Server]

    static func decode(_ r: ObjectReader) -> Gateway {
        defer { r.finish() }
        let servers: [Server] = r.objects("servers") { s in
            defer { s.finish() }
            var tlsMode: String?
            if let t = s.object("tls") {
                tlsMode = t.string("mode")
                for k in ["httpsRedirect"] { _ = t.bool(k) }
                for k in ["serverCertificate", "privateKey", "caCertificates", "credentialName", "minProtocolVersion", "maxProtocolVersion"] { _ = t.string(k) }
                for k in ["subjectAltNames", "cipherSuites", "verifyCertificateSpki", "verifyCertificateHash"] { _ = t.strings(k) }
                t.finish()
            }
            return Server(port: s.object("port").flatMap(ServicePort.decode), hosts: s.strings("hosts"),
                          name: s.string("name"), tlsMode: tlsMode)
        }
        return Gateway(selector: r.stringMap("selector"), servers: servers)
    }
}
