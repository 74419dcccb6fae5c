import WeftConfig

/// A service a registered workload carries, named by the registrant (short name or FQDN).
public struct RegisteredService: Hashable, Sendable, Codable {
    public var name: String
    public var port: Int
    public var targetPort: Int?
    public var `protocol`: String?

    public init(name: String, port: Int, targetPort: Int? = nil, protocol: String? = nil) {
        self.name = name
        self.port = port
        self.targetPort = targetPort
        self.protocol = `protocol`
    }
}

/// A workload that joined through the registration API (a VM, a bare-metal host, a process), with a TTL.
public struct RegisteredWorkload: Hashable, Sendable, Codable {
    public var name: String
    public var namespace: String
    /// Every address of the host, first one preferred.
    public var addresses: [String]
    public var labels: [String: String]
    public var ports: [String: Int]
    public var services: [RegisteredService]
    public var ttlSeconds: Double?
    /// Seconds since 1970 after which the workload is gone unless it heartbeats; nil means never.
    public var expiresAt: Double?
    public var locality: String?
    public var weight: Int?
    public var network: String?
    public var serviceAccount: String?
    /// The WorkloadGroup it registered as (Istio's auto-registration), if any.
    public var group: String?

    public init(name: String, namespace: String, addresses: [String], labels: [String: String] = [:],
                ports: [String: Int] = [:], services: [RegisteredService] = [], ttlSeconds: Double? = nil,
                expiresAt: Double? = nil, locality: String? = nil, weight: Int? = nil, network: String? = nil,
                serviceAccount: String? = nil) {
        self.name = name
        self.namespace = namespace
        self.addresses = addresses
        self.labels = labels
        self.ports = ports
        self.services = services
        self.ttlSeconds = ttlSeconds
        self.expiresAt = expiresAt
        self.locality = locality
        self.weight = weight
        self.network = network
        self.serviceAccount = serviceAccount
    }

    /// The hosts this workload declares by name, qualified in its namespace.
    public var declaredHosts: Set<String> {
        Set(services.map { HostName.qualify($0.name, namespace: namespace) })
    }
}

/// One instance that can back services: from a WorkloadEntry, a ServiceEntry's inline endpoint, or registration.
public struct WorkloadInstance: Hashable, Sendable {
    public var name: String
    public var namespace: String
    public var address: String
    public var labels: [String: String]
    public var ports: [String: Int]
    public var locality: String?
    public var weight: Int?
    public var serviceAccount: String?

    public init(name: String, namespace: String, address: String, labels: [String: String], ports: [String: Int],
                locality: String? = nil, weight: Int? = nil, serviceAccount: String? = nil) {
        self.name = name
        self.namespace = namespace
        self.address = address
        self.labels = labels
        self.ports = ports
        self.locality = locality
        self.weight = weight
        self.serviceAccount = serviceAccount
    }

    init(_ we: WorkloadEntry, name: String, namespace: String) {
        self.init(name: name, namespace: namespace, address: we.address, labels: we.labels, ports: we.ports,
                  locality: we.locality, weight: we.weight, serviceAccount: we.serviceAccount)
    }

    public var identity: WorkloadIdentity { WorkloadIdentity(namespace: namespace, serviceAccount: serviceAccount) }

    public func matches(_ selector: [String: String]) -> Bool {
        selector.allSatisfy { labels[$0.key] == $0.value }
    }
}

/// An address and port that serves one port of a service.
public struct Endpoint: Hashable, Sendable {
    public var address: String
    public var port: Int
    public var labels: [String: String]
    public var locality: String?
    public var weight: Int?
    /// The workload's identity, for the SPIFFE IDs a client accepts from this service; nil for endpoints that are
    /// not workloads (a DNS name).
    public var identity: WorkloadIdentity?

    public init(address: String, port: Int, labels: [String: String] = [:], locality: String? = nil, weight: Int? = nil,
                identity: WorkloadIdentity? = nil) {
        self.address = address
        self.port = port
        self.labels = labels
        self.locality = locality
        self.weight = weight
        self.identity = identity
    }

    /// The workload has a sidecar that takes Istio mutual TLS (Istio's `security.istio.io/tlsMode: istio` label).
    public var acceptsMutualTLS: Bool { labels[MutualTLSPolicies.tlsModeLabel] == MutualTLSPolicies.tlsModeIstio }
}
