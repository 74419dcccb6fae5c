import WeftCore

/// The kinds of resource Weft accepts.
public enum ResourceKind: String, CaseIterable, Sendable, Codable, Comparable {
    case VirtualService, DestinationRule, ServiceEntry, WorkloadEntry, WorkloadGroup, Sidecar, Gateway, RateLimit, PeerAuthentication,
         AuthorizationPolicy, RequestAuthentication, Telemetry

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// Accepts the kind as written (`VirtualService`), lower-case, plural or Istio's short names (`vs`, `dr`, `se`).
    public init?(loose text: String) {
        let t = text.lowercased()
        let aliases: [String: ResourceKind] = ["vs": .VirtualService, "dr": .DestinationRule, "se": .ServiceEntry,
                                               "we": .WorkloadEntry, "wg": .WorkloadGroup, "gw": .Gateway, "rl": .RateLimit,
                                               "pa": .PeerAuthentication, "peerauth": .PeerAuthentication,
                                               "ap": .AuthorizationPolicy, "authz": .AuthorizationPolicy,
                                               "ra": .RequestAuthentication, "requestauthn": .RequestAuthentication,
                                               "telemetries": .Telemetry]
        if let k = aliases[t] { self = k; return }
        guard let k = ResourceKind.allCases.first(where: { k in
            let name = k.rawValue.lowercased()
            return t == name || t == name + "s" || (name.hasSuffix("y") && t == name.dropLast() + "ies")
        }) else {
            return nil
        }
        self = k
    }
}

/// Identity of a resource: kind, namespace and name.
public struct ResourceKey: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public var kind: ResourceKind
    public var namespace: String
    public var name: String

    public init(kind: ResourceKind, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(kind.rawValue) \(namespace)/\(name)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.kind, a.namespace, a.name) < (b.kind, b.namespace, b.name)
    }
}

/// A typed spec of one of the supported kinds.
public enum ResourceSpec: Hashable, Sendable {
    case virtualService(VirtualService)
    case destinationRule(DestinationRule)
    case serviceEntry(ServiceEntry)
    case workloadEntry(WorkloadEntry)
    case workloadGroup(WorkloadGroup)
    case sidecar(Sidecar)
    case gateway(Gateway)
    case rateLimit(RateLimit)
    case peerAuthentication(PeerAuthentication)
    case authorizationPolicy(AuthorizationPolicy)
    case requestAuthentication(RequestAuthentication)
    case telemetry(Telemetry)
}

/// One decoded, validated resource, with the document it came from (for `get` and for storage).
public struct Resource: Hashable, Sendable {
    public var key: ResourceKey
    public var spec: ResourceSpec
    /// The whole document as given, kept for output and storage.
    public var document: JSONValue
    /// The file or API source it came from.
    public var source: String
    /// What the resource holds that Weft accepts but does not apply yet, and other advice; never a refusal.
    public var warnings: [Diagnostic] = []

    public init(key: ResourceKey, spec: ResourceSpec, document: JSONValue, source: String) {
        self.key = key
        self.spec = spec
        self.document = document
        self.source = source
    }
}
