extension ResourceValidator {
    /// Istio's rules (ValidatePeerAuthentication): selector labels valid; port-level modes only on a policy that
    /// selects workloads, since a namespace or mesh has no single port list.
    static func validatePeerAuthentication(_ pa: PeerAuthentication, _ c: inout Checker) {
        if let labels = pa.selector { c.labels(labels, "spec.selector.matchLabels") }
        if !pa.portModes.isEmpty && (pa.selector ?? [:]).isEmpty {
            c.error("spec.portLevelMtls", "mesh/namespace peer authentication cannot have port level mTLS (set selector.matchLabels)")
        }
    }
}
