/// Istio AuthorizationPolicy (`security.istio.io/v1`, `v1beta1`): who may call what on a workload, decided by its
/// sidecar. Mesh-wide in the root namespace, per namespace, or per workload with `selector` or `targetRefs`. A
/// rule matches when one of its `from` sources, one of its `to` operations and every `when` condition match;
/// within a source or operation every field set must match (a field's values are alternatives).
public struct AuthorizationPolicy: Hashable, Sendable {
    public enum Action: String, CaseIterable, Sendable {
        case ALLOW, DENY, AUDIT, CUSTOM
    }

    public static let apiVersions: Set<String> = ["security.istio.io/v1", "security.istio.io/v1beta1"]
    /// The annotation that turns a policy into a dry run: decided, logged and counted, never enforced.
    public static let dryRunAnnotation = "istio.io/dry-run"

    /// `selector.matchLabels`; nil when the policy has no selector.
    public var selector: [String: String]?
    /// `targetRef` / `targetRefs`: the services whose workloads the policy applies to.
    public var targetRefs: [PolicyTargetRef] = []
    public var action: Action = .ALLOW
    /// `provider.name` of a CUSTOM policy (refused by validation: no external authorizer).
    public var provider: String?
    public var rules: [Rule] = []
    public var dryRun = false

    public init(selector: [String: String]? = nil, action: Action = .ALLOW, rules: [Rule] = [], dryRun: Bool = false) {
        self.selector = selector
        self.action = action
        self.rules = rules
        self.dryRun = dryRun
    }

    public struct Rule: Hashable, Sendable {
        public var from: [Source] = []
        public var to: [Operation] = []
        public var when: [Condition] = []

        public init(from: [Source] = [], to: [Operation] = [], when: [Condition] = []) {
            self.from = from
            self.to = to
            self.when = when
        }
    }

    /// `from[].source`: each field a list of alternatives, `not…` fields the values that must not match.
    public struct Source: Hashable, Sendable {
        public var principals: [String] = [], notPrincipals: [String] = []
        public var requestPrincipals: [String] = [], notRequestPrincipals: [String] = []
        public var namespaces: [String] = [], notNamespaces: [String] = []
        public var serviceAccounts: [String] = [], notServiceAccounts: [String] = []
        public var ipBlocks: [String] = [], notIpBlocks: [String] = []
        public var remoteIpBlocks: [String] = [], notRemoteIpBlocks: [String] = []

        public init() {}

        public var isEmpty: Bool { self == Source() }
    }

    /// `to[].operation`.
    public struct Operation: Hashable, Sendable {
        public var hosts: [String] = [], notHosts: [String] = []
        public var ports: [String] = [], notPorts: [String] = []
        public var methods: [String] = [], notMethods: [String] = []
        public var paths: [String] = [], notPaths: [String] = []

        public init() {}

        public var isEmpty: Bool { self == Operation() }
    }

    /// `when[]`: an attribute (`request.headers[x-user]`, `source.ip`, `request.auth.claims[groups]`, ...) that
    /// must have one of `values` and none of `notValues`.
    public struct Condition: Hashable, Sendable {
        public var key: String
        public var values: [String]
        public var notValues: [String]

        public init(key: String, values: [String] = [], notValues: [String] = []) {
            self.key = key
            self.values = values
            self.notValues = notValues
        }
    }
}

/// Istio's `targetRef` / `targetRefs` of a policy (`PolicyTargetReference`).
public struct PolicyTargetRef: Hashable, Sendable {
    public var group: String
    public var kind: String
    public var name: String
    public var namespace: String?

    static func decode(_ r: ObjectReader) -> PolicyTargetRef {
        defer { r.finish() }
        return PolicyTargetRef(group: r.string("group") ?? "", kind: r.string("kind") ?? "", name: r.string("name") ?? "",
                               namespace: r.string("namespace"))
    }

    /// `targetRef` and `targetRefs` of a policy's spec.
    static func decodeAll(_ r: ObjectReader) -> [PolicyTargetRef] {
        (r.object("targetRef").map { [decode($0)] } ?? []) + r.objects("targetRefs") { decode($0) }
    }

    /// Reads `selector.matchLabels`.
    static func selector(_ r: ObjectReader) -> [String: String]? {
        guard let s = r.object("selector") else { return nil }
        defer { s.finish() }
        return s.stringMap("matchLabels")
    }
}

extension AuthorizationPolicy {
    static func decode(_ r: ObjectReader, annotations: [String: String]) -> AuthorizationPolicy {
        defer { r.finish() }
        var p = AuthorizationPolicy()
        p.selector = PolicyTargetRef.selector(r)
        p.targetRefs = PolicyTargetRef.decodeAll(r)
        p.action = r.enumValue("action", Action.self) ?? .ALLOW
        if let prov = r.object("provider") {
            p.provider = prov.string("name")
            prov.finish()
        }
        p.rules = r.objects("rules") { rule in
            defer { rule.finish() }
            var out = Rule()
            out.from = rule.objects("from") { f in
                defer { f.finish() }
                guard let s = f.object("source") else {
                    r.ctx.error(f.path, "a `from` entry needs `source`")
                    return nil
                }
                return decodeSource(s)
            }
            out.to = rule.objects("to") { t in
                defer { t.finish() }
                guard let o = t.object("operation") else {
                    r.ctx.error(t.path, "a `to` entry needs `operation`")
                    return nil
                }
                return decodeOperation(o)
            }
            out.when = rule.objects("when") { c in
                defer { c.finish() }
                return Condition(key: c.string("key", required: true) ?? "", values: c.strings("values"), notValues: c.strings("notValues"))
            }
            return out
        }
        if let v = annotations[dryRunAnnotation] {
            switch v.lowercased() {
            case "true": p.dryRun = true
            case "false": p.dryRun = false
            default: r.ctx.error("metadata.annotations.\(dryRunAnnotation)", "must be \"true\" or \"false\", got '\(v)'")
            }
        }
        return p
    }

    static func decodeSource(_ s: ObjectReader) -> Source {
        defer { s.finish() }
        var o = Source()
        o.principals = s.strings("principals"); o.notPrincipals = s.strings("notPrincipals")
        o.requestPrincipals = s.strings("requestPrincipals"); o.notRequestPrincipals = s.strings("notRequestPrincipals")
        o.namespaces = s.strings("namespaces"); o.notNamespaces = s.strings("notNamespaces")
        o.serviceAccounts = s.strings("serviceAccounts"); o.notServiceAccounts = s.strings("notServiceAccounts")
        o.ipBlocks = s.strings("ipBlocks"); o.notIpBlocks = s.strings("notIpBlocks")
        o.remoteIpBlocks = s.strings("remoteIpBlocks"); o.notRemoteIpBlocks = s.strings("notRemoteIpBlocks")
        return o
    }

    static func decodeOperation(_ s: ObjectReader) -> Operation {
        defer { s.finish() }
        var o = Operation()
        o.hosts = s.strings("hosts"); o.notHosts = s.strings("notHosts")
        o.ports = s.strings("ports"); o.notPorts = s.strings("notPorts")
        o.methods = s.strings("methods"); o.notMethods = s.strings("notMethods")
        o.paths = s.strings("paths"); o.notPaths = s.strings("notPaths")
        return o
    }
}
