import ProxyConfig
import WeftCore

/// What RBAC reads of a request or of a bare connection (network RBAC), so one evaluation serves both.
public protocol AuthorizationInput {
    var connection: ConnectionFacts { get }
    /// A header by lowercase name, pseudo-headers included; always nil on a bare connection.
    func header(_ name: String) -> String?
    /// The path without query and fragment; nil on a bare connection.
    var requestPath: Substring? { get }
    /// What authentication wrote (the JWT payload); empty on a bare connection.
    var metadata: DynamicMetadata { get }
}

extension FilterRequest: AuthorizationInput {
    public var requestPath: Substring? { path }
}

/// A connection as network RBAC sees it: no headers, no path, no metadata (Envoy's network filter evaluates the
/// same policies with an empty request).
public struct ConnectionInput: AuthorizationInput {
    public let connection: ConnectionFacts
    public init(_ connection: ConnectionFacts) { self.connection = connection }
    public func header(_ name: String) -> String? { nil }
    public var requestPath: Substring? { nil }
    public var metadata: DynamicMetadata { DynamicMetadata() }
}

/// A decision of one set of rules: allowed or not, and the policy that matched (the first by name), if any.
public struct RBACDecision: Sendable, Equatable {
    public var allowed: Bool
    /// Index into the rules' policies.
    public var matched: Int?

    public init(allowed: Bool, matched: Int?) {
        self.allowed = allowed
        self.matched = matched
    }
}

extension RBACRules {
    /// Envoy's RoleBasedAccessControlEngineImpl::handleAction: ALLOW allows iff a policy matches, DENY denies iff
    /// one does, LOG always allows (and reports the policy that matched).
    public func evaluate<I: AuthorizationInput>(_ input: I) -> RBACDecision {
        let matched = policies.firstIndex { $0.matches(input) }
        switch action {
        case .allow: return RBACDecision(allowed: matched != nil, matched: matched)
        case .deny: return RBACDecision(allowed: matched == nil, matched: matched)
        case .log: return RBACDecision(allowed: true, matched: matched)
        }
    }

    /// The matched policy's name, or "none" (Envoy's wording in its logs).
    public func policyName(_ d: RBACDecision) -> String { d.matched.map { policies[$0].name } ?? "none" }
}

extension RBACPolicy {
    /// Any permission and any principal.
    public func matches<I: AuthorizationInput>(_ input: I) -> Bool {
        permissions.contains { $0.matches(input) } && principals.contains { $0.matches(input) }
    }
}

extension RBACPermission {
    public func matches<I: AuthorizationInput>(_ input: I) -> Bool {
        switch self {
        case .any: return true
        case let .and(ps): return ps.allSatisfy { $0.matches(input) }
        case let .or(ps): return ps.contains { $0.matches(input) }
        case let .not(p): return !p.matches(input)
        case let .header(h): return h.matches(input.header(h.name))
        case let .urlPath(m): return input.requestPath.map(m.matches) ?? false
        case let .destinationIP(c): return input.connection.localAddress.map(c.contains) ?? false
        case let .destinationPort(p): return input.connection.localPort == p
        case let .destinationPortRange(r): return r.contains(input.connection.localPort)
        case let .requestedServerName(m): return m.matches(input.connection.serverName)
        case let .metadata(m): return m.matches(input.metadata)
        }
    }
}

extension RBACPrincipal {
    public func matches<I: AuthorizationInput>(_ input: I) -> Bool {
        switch self {
        case .any: return true
        case let .and(ps): return ps.allSatisfy { $0.matches(input) }
        case let .or(ps): return ps.contains { $0.matches(input) }
        case let .not(p): return !p.matches(input)
        case let .authenticated(m):
            guard let peer = input.connection.peer else { return false }
            guard let m else { return true }
            return peer.uriSANs.contains(where: m.matches) || peer.dnsSANs.contains(where: m.matches)
        case let .directRemoteIP(c), let .remoteIP(c): return input.connection.peerAddress.map(c.contains) ?? false
        case let .header(h): return h.matches(input.header(h.name))
        case let .urlPath(m): return input.requestPath.map(m.matches) ?? false
        case let .metadata(m): return m.matches(input.metadata)
        }
    }
}

extension RBACMetadataMatcher {
    public func matches(_ metadata: DynamicMetadata) -> Bool {
        value.matches(metadata.value(filter: filter, path: path)) != invert
    }
}
