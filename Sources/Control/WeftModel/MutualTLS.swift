import WeftConfig
import WeftCore

/// Who a workload is, as the mesh CA names it: its namespace and service account.
public struct WorkloadIdentity: Hashable, Sendable {
    public var namespace: String
    public var serviceAccount: String

    public init(namespace: String, serviceAccount: String?) {
        self.namespace = namespace
        self.serviceAccount = serviceAccount.flatMap { $0.isEmpty ? nil : $0 } ?? SpiffeID.defaultServiceAccount
    }

    public func spiffe(trustDomain: String) -> SpiffeID {
        SpiffeID(trustDomain: trustDomain, namespace: namespace, serviceAccount: serviceAccount)
    }
}

/// The mesh's mutual TLS settings and the PeerAuthentication policies, resolved per workload and port as Istio
/// does: a workload policy (selector matches) over the namespace's policy over the mesh policy (root
/// namespace, no selector); UNSET inherits; with nothing set anywhere, PERMISSIVE.
public struct MutualTLSPolicies: Sendable {
    /// The label Istio puts on workloads that have a sidecar able to take mutual TLS; auto mTLS reads it.
    public static let tlsModeLabel = "security.istio.io/tlsMode"
    public static let tlsModeIstio = "istio"

    public var trustDomain = SpiffeID.defaultTrustDomain
    public var rootNamespace = "istio-system"
    /// Policies in name order per namespace (Istio takes the oldest; Weft, without creation times, the first by name).
    var policies: [(namespace: String, name: String, spec: PeerAuthentication)] = []

    public init() {}

    init(resources: [Resource]) {
        for r in resources.sorted(by: { $0.key < $1.key }) {
            if case let .peerAuthentication(pa) = r.spec { policies.append((r.key.namespace, r.key.name, pa)) }
        }
    }

    /// The effective mode for a workload's port; never UNSET. `ports` names the port as the workload listens
    /// (the sidecar's inbound port, then the app's): the first with a port-level mode decides.
    public func mode(namespace: String, labels: [String: String], ports: [Int] = []) -> PeerAuthentication.Mode {
        let inNamespace = policies.filter { $0.namespace == namespace }
        let workload = inNamespace.first { p in
            guard let sel = p.spec.selector, !sel.isEmpty else { return false }
            return sel.allSatisfy { labels[$0.key] == $0.value }
        }?.spec
        let namespaceWide = inNamespace.first { ($0.spec.selector ?? [:]).isEmpty }?.spec
        let mesh = policies.first { $0.namespace == rootNamespace && ($0.spec.selector ?? [:]).isEmpty }?.spec
        var chain: [PeerAuthentication.Mode] = []
        if let workload {
            if let m = ports.lazy.compactMap({ workload.portModes[$0] }).first { chain.append(m) }
            chain.append(workload.mode)
        }
        chain += [namespaceWide?.mode, mesh?.mode].compactMap { $0 }
        return chain.first { $0 != .UNSET } ?? .PERMISSIVE
    }
}
