import WeftCore

/// Envoy's role-based access control (`envoy.config.rbac.v3.RBAC`) as weft proxy runs it, compiled when config
/// arrives: the HTTP filter (`envoy.filters.http.rbac`, several instances per listener, in order) and the network
/// filter (`envoy.filters.network.rbac`, once per connection). ProxyRouting's RBACEngine evaluates them.

/// One RBAC filter instance: its enforced rules and its shadow (dry-run) rules, either of which may be absent.
public struct RBACFilterConfig: Sendable, Equatable {
    /// nil: the filter enforces nothing (every request goes on).
    public var rules: RBACRules?
    /// Evaluated, counted and logged; never enforced.
    public var shadowRules: RBACRules?

    public init(rules: RBACRules?, shadowRules: RBACRules?) {
        self.rules = rules
        self.shadowRules = shadowRules
    }

    /// Whether a rule reads the TLS server name (the listener then looks at the ClientHello).
    public var readsServerName: Bool {
        (rules?.readsServerName ?? false) || (shadowRules?.readsServerName ?? false)
    }
}

/// The RBAC filters of an HTTP connection manager, in their `http_filters` order. weft proxy runs them as one
/// filter at the position of the first (the instances must be adjacent in `http_filters`, which XDSClient checks).
public struct RBACSettings: HTTPFilterSettings, Equatable {
    public static let filterName = "envoy.filters.http.rbac"
    public var instances: [RBACFilterConfig]

    public init(instances: [RBACFilterConfig]) { self.instances = instances }
}

/// A set of policies with one action, and the counters it feeds. Immutable; a class, so a request's evaluation
/// copies nothing.
public final class RBACRules: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Allowed when a policy matches (no policy: nothing is allowed).
        case allow
        /// Denied when a policy matches.
        case deny
        /// Never denies; a matching policy is logged (Istio's AUDIT).
        case log
    }
    public let action: Action
    /// In the lexicographic order of their names: the first that matches decides (Envoy keeps them in a sorted map).
    public let policies: [RBACPolicy]
    /// Counted for each decision: `...rbac.allowed` / `...rbac.denied`, or for shadow rules `...shadow_allowed` /
    /// `...shadow_denied`.
    public let allowedStat: StatName
    public let deniedStat: StatName

    public init(action: Action, policies: [RBACPolicy], allowedStat: StatName, deniedStat: StatName) {
        self.action = action
        self.policies = policies.sorted { $0.name < $1.name }
        self.allowedStat = allowedStat
        self.deniedStat = deniedStat
    }

    public static func == (a: RBACRules, b: RBACRules) -> Bool {
        a.action == b.action && a.policies == b.policies && a.allowedStat == b.allowedStat && a.deniedStat == b.deniedStat
    }

    var readsServerName: Bool { policies.contains { $0.permissions.contains(where: \.readsServerName) } }
}

/// A named policy: it matches when any permission and any principal match.
public final class RBACPolicy: Sendable, Equatable {
    public let name: String
    public let permissions: [RBACPermission]
    public let principals: [RBACPrincipal]
    /// This policy's own counters for the decisions it makes (`...rbac.policy.<name>.allowed` / `.denied`, with
    /// `shadow_` for shadow rules).
    public let allowedStat: StatName
    public let deniedStat: StatName

    public init(name: String, permissions: [RBACPermission], principals: [RBACPrincipal], allowedStat: StatName, deniedStat: StatName) {
        self.name = name
        self.permissions = permissions
        self.principals = principals
        self.allowedStat = allowedStat
        self.deniedStat = deniedStat
    }

    public static func == (a: RBACPolicy, b: RBACPolicy) -> Bool {
        a.name == b.name && a.permissions == b.permissions && a.principals == b.principals && a.allowedStat == b.allowedStat
            && a.deniedStat == b.deniedStat
    }
}

/// What is asked for: the request (headers, path) and the connection's local side.
public indirect enum RBACPermission: Sendable, Equatable {
    case any
    case and([RBACPermission])
    case or([RBACPermission])
    case not(RBACPermission)
    case header(RBACHeaderMatcher)
    /// The path without query and fragment; never matches where there is no request (TCP).
    case urlPath(TextMatcher)
    case destinationIP(CIDRText)
    case destinationPort(Int)
    /// Ports in `[start, end)`.
    case destinationPortRange(Range<Int>)
    /// The TLS server name ("" for plaintext).
    case requestedServerName(TextMatcher)
    case metadata(RBACMetadataMatcher)

    var readsServerName: Bool {
        switch self {
        case .requestedServerName: return true
        case let .and(ps), let .or(ps): return ps.contains(where: \.readsServerName)
        case let .not(p): return p.readsServerName
        default: return false
        }
    }
}

/// Who asks: the connection's peer and what authentication found.
public indirect enum RBACPrincipal: Sendable, Equatable {
    case any
    case and([RBACPrincipal])
    case or([RBACPrincipal])
    case not(RBACPrincipal)
    /// An mTLS peer; with a matcher, one of its certificate's URI SANs or DNS SANs must match it. A plaintext
    /// connection never matches.
    case authenticated(TextMatcher?)
    /// The peer's socket address.
    case directRemoteIP(CIDRText)
    /// The caller's address as the proxy trusts it: the same as the direct one (no x-forwarded-for is trusted).
    case remoteIP(CIDRText)
    case header(RBACHeaderMatcher)
    case urlPath(TextMatcher)
    case metadata(RBACMetadataMatcher)
}

/// Envoy's MetadataMatcher: the value at `path` under `filter` in the request's dynamic metadata, matched by
/// `value`, the result inverted when `invert`.
public struct RBACMetadataMatcher: Sendable, Equatable {
    public var filter: String
    public var path: [String]
    public var value: ValueMatcher
    public var invert: Bool

    public init(filter: String, path: [String], value: ValueMatcher, invert: Bool = false) {
        self.filter = filter
        self.path = path
        self.value = value
        self.invert = invert
    }
}

/// Envoy's ValueMatcher over a JSON-like value (nil: absent).
public indirect enum ValueMatcher: Sendable, Equatable {
    case null
    /// A number equal to the value.
    case number(Double)
    /// A number in `[start, end)`.
    case numberRange(Double, Double)
    case string(TextMatcher)
    case bool(Bool)
    /// `present_match: true` matches any value; `false` matches nothing (Envoy's PresentMatcher).
    case present(Bool)
    /// A list with an element that matches.
    case listOneOf(ValueMatcher)
    case or([ValueMatcher])

    public func matches(_ v: JSONValue?) -> Bool {
        switch self {
        case .null: if case .null? = v { return true } else { return false }
        case let .number(x): if case let .number(n)? = v { return n == x } else { return false }
        case let .numberRange(a, b): if case let .number(n)? = v { return a <= n && n < b } else { return false }
        case let .string(m): if case let .string(s)? = v { return m.matches(s) } else { return false }
        case let .bool(b): if case let .bool(x)? = v { return x == b } else { return false }
        case let .present(want): return want && v != nil
        case let .listOneOf(m): if case let .array(items)? = v { return items.contains { m.matches($0) } } else { return false }
        case let .or(ms): return ms.contains { $0.matches(v) }
        }
    }
}
