import WeftConfig

/// A service of the mesh: a host, its ports, and the endpoints behind each port.
public struct Service: Hashable, Sendable {
    public var host: String
    public var namespace: String
    public var ports: [ServicePort]
    public var resolution: ServiceEntry.Resolution
    public var location: ServiceEntry.Location
    /// Endpoints by service port number.
    public var endpoints: [Int: [Endpoint]]

    public init(host: String, namespace: String, ports: [ServicePort], resolution: ServiceEntry.Resolution = .STATIC,
                location: ServiceEntry.Location = .MESH_INTERNAL, endpoints: [Int: [Endpoint]] = [:]) {
        self.host = host
        self.namespace = namespace
        self.ports = ports
        self.resolution = resolution
        self.location = location
        self.endpoints = endpoints
    }

    /// The short name (`reviews` for `reviews.default.svc.cluster.local`) when the host follows the cluster convention.
    public var shortName: String? {
        let suffix = ".\(namespace).\(HostName.clusterDomain)"
        return host.hasSuffix(suffix) ? String(host.dropLast(suffix.count)) : nil
    }

    public func port(_ number: Int) -> ServicePort? { ports.first { $0.number == number } }

    /// ServiceEntry `subjectAltNames`: identities a client accepts besides its endpoints' own.
    public var subjectAltNames: [String] = []

    /// The SPIFFE IDs a client accepts from this service's port (Istio's subjectAltNames): its endpoints'
    /// identities and the ServiceEntry's `subjectAltNames`, sorted.
    public func identities(port: Int, trustDomain: String) -> [String] {
        let ids = Set((endpoints[port] ?? []).compactMap { $0.identity?.spiffe(trustDomain: trustDomain).uri })
        return (ids.sorted() + subjectAltNames.filter { !ids.contains($0) })
    }

    /// Adds the endpoint of `instance` for every port it serves.
    mutating func add(_ instance: WorkloadInstance) {
        // An address-less entry (Istio: reached through its network's gateway) has nothing to connect to yet.
        guard !instance.address.isEmpty else { return }
        for p in ports {
            let target = instance.ports[p.name] ?? p.targetPort ?? p.number
            endpoints[p.number, default: []].append(Endpoint(address: instance.address, port: target, labels: instance.labels,
                                                             locality: instance.locality, weight: instance.weight,
                                                             identity: instance.identity))
        }
    }
}
