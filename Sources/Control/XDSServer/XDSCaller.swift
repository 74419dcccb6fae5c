import GRPCCore
import WeftModel

/// Who is on the other end of an xDS or certificate call, as the control plane authenticated it: a workload
/// identity (from a join token or a mesh certificate), the admin (may act as anyone), or anyone at all
/// (`weft control --insecure`, where the node metadata is believed as before).
public enum XDSCaller: Sendable, Equatable, CustomStringConvertible {
    case anyone
    case admin
    case workload(WorkloadIdentity, via: Credential)

    public enum Credential: String, Sendable { case token = "join token", certificate = "mesh certificate" }

    /// Whether this caller may act as `identity` (open a stream for that node, get a certificate for it).
    public func permits(_ identity: WorkloadIdentity) -> Bool {
        switch self {
        case .anyone, .admin: true
        case let .workload(mine, _): mine == identity
        }
    }

    public var description: String {
        switch self {
        case .anyone: "anyone (--insecure)"
        case .admin: "the admin token"
        case let .workload(id, via): "\(via.rawValue) for namespace \(id.namespace), service account \(id.serviceAccount)"
        }
    }

    /// The refusal when a caller claims an identity it does not hold.
    public func refusal(claimed identity: WorkloadIdentity, what: String) -> RPCError {
        RPCError(code: .permissionDenied,
                 message: "\(what) claims namespace \(identity.namespace), service account \(identity.serviceAccount), but the caller holds a \(self)")
    }
}

/// Authenticates an xDS or certificate call from its metadata (a bearer token) and its TLS peer (a client
/// certificate); throws `unauthenticated` when neither is a valid credential. Implemented by the control
/// plane, which holds the CA and the token key.
public protocol XDSAuthenticator: Sendable {
    func caller(metadata: Metadata, context: ServerContext) throws -> XDSCaller
}
