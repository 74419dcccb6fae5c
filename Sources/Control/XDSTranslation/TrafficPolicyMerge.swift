import WeftConfig
import WeftModel

extension TrafficPolicy {
    /// Istio's precedence: each setting of `other` (when set) replaces this one's.
    func overlaid(by other: TrafficPolicy?) -> TrafficPolicy {
        guard let other else { return self }
        var p = self
        if let v = other.loadBalancer { p.loadBalancer = v }
        if let v = other.connectionPool { p.connectionPool = v }
        if let v = other.outlierDetection { p.outlierDetection = v }
        if let v = other.tls { p.tls = v }
        if let v = other.retryBudget { p.retryBudget = v }
        return p
    }

    /// The policy for one port: port-level settings over the policy itself.
    func forPort(_ port: Int) -> TrafficPolicy {
        overlaid(by: portLevelSettings.first { $0.port == port }?.policy)
    }
}

extension MeshState {
    /// The traffic policy that applies to calls to `host:port` (subset optional).
    func policy(host: String, port: Int, subset: String?) -> TrafficPolicy {
        guard let dr = destinationRules[host]?.spec else { return TrafficPolicy() }
        var p = (dr.trafficPolicy ?? TrafficPolicy()).forPort(port)
        if let subset, let s = dr.subsets.first(where: { $0.name == subset }), let sp = s.trafficPolicy {
            p = p.overlaid(by: sp.forPort(port))
        }
        return p
    }
}
