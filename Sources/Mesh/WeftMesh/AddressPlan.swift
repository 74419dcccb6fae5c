import WeftCore

/// Gives every workload of a mesh its own loopback address (127.0.0.11, .12, ... or fd77:6566:74::11, ...),
/// so each app and sidecar can use the service's own port. With `sharedIPv6` (no address could be added to
/// `lo`), every workload lives on ::1 and gets distinct ports instead.
public enum AddressPlan {
    public static let ipv6Prefix = "fd77:6566:74::"
    public static let sharedPortBase = 20000

    public static func controlPlane(ipv6: Bool) -> (xds: HostPort, api: HostPort) {
        let host = ipv6 ? "::1" : "127.0.0.1"
        return (HostPort(host: host, port: 15010), HostPort(host: host, port: 15014))
    }

    /// The address of the i-th workload (0-based).
    public static func address(_ i: Int, ipv6: Bool) -> String {
        ipv6 ? "\(ipv6Prefix)\(11 + i)" : "127.0.0.\(11 + i)"
    }

    public static func workloads(_ spec: MeshSpec, ipv6: Bool, sharedIPv6: Bool = false) -> [WorkloadPlan] {
        var out: [WorkloadPlan] = []
        for s in spec.services {
            for r in 0..<s.replicas {
                let i = out.count
                let name = s.replicas > 1 ? "\(s.deploymentName)-\(r + 1)" : s.deploymentName
                let address = sharedIPv6 ? "::1" : address(i, ipv6: ipv6)
                let base = sharedPortBase + 4 * i
                let inbound = sharedIPv6 ? base : s.port
                let appPort = sharedIPv6 ? base + 1 : s.targetPort
                let outbound = HostPort(host: address, port: sharedIPv6 ? base + 2 : 15001)
                let admin = HostPort(host: address, port: sharedIPv6 ? base + 3 : 15000)
                var plan = WorkloadPlan(
                    name: name, namespace: spec.namespace, labels: s.labels, addresses: [address],
                    services: [.init(name: s.name, port: s.port, inboundPort: inbound, protocol: s.protocol)],
                    appPort: appPort, outbound: outbound, admin: admin, command: s.command, env: s.env)
                plan.serviceAccount = s.serviceAccount
                out.append(plan)
            }
        }
        return out
    }
}
