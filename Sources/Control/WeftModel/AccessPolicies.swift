import WeftConfig

/// AuthorizationPolicy and RequestAuthentication, selected per workload as Istio does: a policy in the root
/// namespace without selector applies to the whole mesh; one in a namespace without selector to its workloads;
/// one with `selector` (or `targetRefs` naming a ServiceEntry with a workload selector) to the workloads it
/// selects in its namespace (in every namespace, for a selector in the root namespace). The JSON Web Key Sets of `jwksUri` rules, fetched by the control plane, join here.
public struct AccessPolicies: Sendable {
    /// A policy with the namespace and name it was written under (its name in logs, metrics and `weft check`).
    public struct Named<Spec: Sendable>: Sendable {
        public var namespace: String
        public var name: String
        public var spec: Spec

        public init(namespace: String, name: String, spec: Spec) {
            self.namespace = namespace
            self.name = name
            self.spec = spec
        }

        /// Istio's name of the policy in Envoy's RBAC config: `ns[NS]-policy[NAME]`.
        public var envoyName: String { "ns[\(namespace)]-policy[\(name)]" }
    }

    public var rootNamespace = "istio-system"
    /// Policies in name order, as Istio orders them.
    public var authorization: [Named<AuthorizationPolicy>] = []
    public var authentication: [Named<RequestAuthentication>] = []
    /// Key sets fetched from `jwksUri`, by URI (absent: not fetched yet, or the fetch failed).
    public var fetchedJWKS: [String: String] = [:]
    /// Workload selectors of ServiceEntries by namespace and name, for `targetRefs`.
    var serviceSelectors: [String: [String: String]] = [:]

    public init() {}

    init(resources: [Resource]) {
        for r in resources.sorted(by: { $0.key < $1.key }) {
            switch r.spec {
            case let .authorizationPolicy(p): authorization.append(Named(namespace: r.key.namespace, name: r.key.name, spec: p))
            case let .requestAuthentication(p): authentication.append(Named(namespace: r.key.namespace, name: r.key.name, spec: p))
            case let .serviceEntry(se):
                if let sel = se.workloadSelector {
                    serviceSelectors["\(r.key.namespace)/\(r.key.name)"] = sel
                    for h in se.hosts { serviceSelectors["\(r.key.namespace)/host/\(h)"] = sel }
                }
            default: break
            }
        }
    }

    /// The AuthorizationPolicies that apply to a workload.
    public func authorization(namespace: String, labels: [String: String]) -> [Named<AuthorizationPolicy>] {
        authorization.filter { applies($0.namespace, $0.spec.selector, $0.spec.targetRefs, namespace, labels) }
    }

    /// The RequestAuthentications that apply to a workload.
    public func authentication(namespace: String, labels: [String: String]) -> [Named<RequestAuthentication>] {
        authentication.filter { applies($0.namespace, $0.spec.selector, $0.spec.targetRefs, namespace, labels) }
    }

    /// Every URI whose key set the control plane must fetch.
    public var jwksURIs: Set<String> {
        Set(authentication.flatMap { $0.spec.jwtRules.compactMap { $0.jwks == nil ? $0.jwksUri : nil } })
    }

    /// The key set of a rule: inline, or fetched; nil while a `jwksUri` has not been fetched.
    public func jwks(_ rule: RequestAuthentication.JWTRule) -> String? {
        rule.jwks ?? rule.jwksUri.flatMap { fetchedJWKS[$0] }
    }

    func applies(_ policyNamespace: String, _ selector: [String: String]?, _ refs: [PolicyTargetRef],
                 _ namespace: String, _ labels: [String: String]) -> Bool {
        if !refs.isEmpty {
            guard policyNamespace == namespace else { return false }
            return refs.contains { ref in
                let sel = serviceSelectors["\(namespace)/\(ref.name)"]
                    ?? serviceSelectors["\(namespace)/host/\(ref.name).\(namespace).svc.cluster.local"]
                return sel.map { s in s.allSatisfy { labels[$0.key] == $0.value } } ?? false
            }
        }
        if let sel = selector, !sel.isEmpty {
            // In the root namespace a selector picks workloads of every namespace.
            return (policyNamespace == namespace || policyNamespace == rootNamespace) && sel.allSatisfy { labels[$0.key] == $0.value }
        }
        return policyNamespace == namespace || policyNamespace == rootNamespace
    }
}
