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
    case GRPC_WEB = "GRPC-WEB", HTTP_PROXY
    /// Routed by HTTP routes (HTTP/1, HTTP/2 and gRPC); the rest are routed as TCP.
    public var isHTTP: Bool { [.HTTP, .GRPC, .HTTP2, .GRPC_WEB, .HTTP_PROXY].contains(self) }
    public var isTLS: Bool { self == .HTTPS || self == .TLS }
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
        } else if let guessed = PortProtocol.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count }).first(where: {
            let p = $0.rawValue.lowercased(), n = name.lowercased()
            return n == p || n.hasPrefix(p + "-")
        }) {
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
        if r.has("network") { r.ctx.notApplied(r.sub("network")) }
        return WorkloadEntry(address: r.string("address") ?? "", ports: ports, labels: r.stringMap("labels"),
                             network: r.string("network"), locality: r.string("locality"),
                             weight: r.int("weight"), serviceAccount: r.string("serviceAccount"))
    }
}
