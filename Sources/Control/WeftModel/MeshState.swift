import WeftConfig

/// The immutable join of config and registry that translation reads. Built once per change, shared by all
/// proxy streams, swapped whole.
public struct MeshState: Sendable {
    public var version: Int
    /// Services by host.
    public var services: [String: Service]
    /// Mesh VirtualServices by the service host they route, with the namespace they were written in.
    public var virtualServices: [String: (namespace: String, spec: VirtualService)]
    /// DestinationRules by host.
    public var destinationRules: [String: (namespace: String, spec: DestinationRule)]
    public var resources: [Resource]
    /// Per-route rate limits by the service host they limit, and per-workload ones with their namespace.
    public var routeRateLimits: [String: [RateLimit]] = [:]
    public var workloadRateLimits: [(namespace: String, limit: RateLimit)] = []
    /// Mesh-wide listener limits (`weft control --limits`), written into every listener.
    public var limits = ListenerLimits.standard
    /// Trust domain, root namespace and PeerAuthentication policies (`weft control --trust-domain`, `--root-namespace`).
    public var mutualTLS = MutualTLSPolicies()
    /// AuthorizationPolicy and RequestAuthentication, with the key sets fetched for `jwksUri`.
    public var access = AccessPolicies()
    /// Telemetry resources with the mesh's providers and defaults (`weft control --mesh-config`).
    public var telemetry = TelemetryPolicies()

    public var declaredHosts: Set<String> { Set(services.keys) }

    /// `workloads` may include address-less entries that only keep a registered service declared
    /// after its last workload left, so callers get 503 (no endpoints) rather than 404 (unknown host).
    public init(version: Int, resources: [Resource], workloads: [RegisteredWorkload]) {
        self.version = version
        self.resources = resources
        var services: [String: Service] = [:]
        var entries: [WorkloadInstance] = []
        for r in resources {
            if case let .workloadEntry(we) = r.spec { entries.append(WorkloadInstance(we, name: r.key.name, namespace: r.key.namespace)) }
        }
        let registered = workloads.compactMap { w -> WorkloadInstance? in
            guard let address = w.addresses.first else { return nil }
            return WorkloadInstance(name: w.name, namespace: w.namespace, address: address, labels: w.labels, ports: w.ports,
                                    locality: w.locality, weight: w.weight, serviceAccount: w.serviceAccount)
        }
        for r in resources {
            // DYNAMIC_DNS (a dynamic forward proxy) is not applied yet: its wildcard hosts are not declared.
            guard case let .serviceEntry(se) = r.spec, se.resolution != .DYNAMIC_DNS else { continue }
            for host in se.hosts {
                var s = Service(host: host, namespace: r.key.namespace, ports: se.ports, resolution: se.resolution, location: se.location)
                s.subjectAltNames = se.subjectAltNames
                for (i, e) in se.endpoints.enumerated() { s.add(WorkloadInstance(e, name: "\(r.key.name)-\(i)", namespace: r.key.namespace)) }
                if let sel = se.workloadSelector {
                    for w in entries + registered where w.namespace == r.key.namespace && w.matches(sel) { s.add(w) }
                }
                if se.resolution != .STATIC && se.endpoints.isEmpty && se.workloadSelector == nil {
                    for p in se.ports { s.endpoints[p.number] = [Endpoint(address: host, port: p.targetPort ?? p.number)] }
                }
                services[host] = s
            }
        }
        for w in workloads {
            let address = w.addresses.first
            for rs in w.services {
                let host = HostName.qualify(rs.name, namespace: w.namespace)
                let proto = rs.protocol.flatMap { PortProtocol(rawValue: $0.uppercased()) } ?? .HTTP
                var s = services[host] ?? Service(host: host, namespace: w.namespace, ports: [])
                if s.port(rs.port) == nil { s.ports.append(ServicePort(number: rs.port, name: "port-\(rs.port)", protocol: proto)) }
                if let address {
                    s.endpoints[rs.port, default: []].append(Endpoint(address: address, port: rs.targetPort ?? rs.port, labels: w.labels,
                                                                      locality: w.locality, weight: w.weight,
                                                                      identity: WorkloadIdentity(namespace: w.namespace, serviceAccount: w.serviceAccount)))
                }
                services[host] = s
            }
        }
        self.services = services
        let declared = Set(services.keys)
        var vss: [String: (String, VirtualService)] = [:]
        var drs: [String: (String, DestinationRule)] = [:]
        var routeRateLimits: [String: [RateLimit]] = [:]
        var workloadRateLimits: [(namespace: String, limit: RateLimit)] = []
        let delegates = VirtualServiceDelegation.delegates(in: resources)
        for r in resources.sorted(by: { $0.key < $1.key }) {
            switch r.spec {
            case let .virtualService(root) where root.appliesToMesh && !root.isDelegate:
                let vs = VirtualServiceDelegation.resolve(root: root, namespace: r.key.namespace, delegates: delegates)
                for h in vs.hosts {
                    if let host = HostName.resolve(h, namespace: r.key.namespace, declared: declared), vss[host] == nil {
                        vss[host] = (r.key.namespace, vs)
                    }
                }
            case let .rateLimit(rl):
                if let h = rl.host {
                    if let host = HostName.resolve(h, namespace: r.key.namespace, declared: declared) { routeRateLimits[host, default: []].append(rl) }
                } else {
                    workloadRateLimits.append((r.key.namespace, rl))
                }
            case let .destinationRule(dr):
                let host = HostName.resolve(dr.host, namespace: r.key.namespace, declared: declared) ?? HostName.qualify(dr.host, namespace: r.key.namespace)
                if drs[host] == nil { drs[host] = (r.key.namespace, dr) }
            default: break
            }
        }
        self.mutualTLS = MutualTLSPolicies(resources: resources)
        self.access = AccessPolicies(resources: resources)
        self.telemetry = TelemetryPolicies(resources: resources)
        self.routeRateLimits = routeRateLimits
        self.workloadRateLimits = workloadRateLimits
        self.virtualServices = vss
        self.destinationRules = drs
    }

    /// The endpoints of `host`'s `port` whose labels include `subsetLabels`.
    public func endpoints(host: String, port: Int, subsetLabels: [String: String] = [:]) -> [Endpoint] {
        (services[host]?.endpoints[port] ?? []).filter { e in subsetLabels.allSatisfy { e.labels[$0.key] == $0.value } }
    }
}
