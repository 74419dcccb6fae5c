import Foundation
import WeftCA
import WeftCore
import WeftHTTPServer
import WeftModel

extension ControlAPI {
    /// What a join token may do: register workloads of its namespace and service account, heartbeat and
    /// deregister them. Everything else is 403.
    func workloadRequest(_ req: APIRequest, _ rest: [String], namespace: String, serviceAccount: String) -> APIResponse {
        let scope = "\(namespace)/\(serviceAccount)"
        switch (req.method, rest.first, rest.count) {
        case (.POST, "workloads", 1):
            return register(req.body, scope: (namespace, serviceAccount))
        case (.PUT, "workloads", 4) where rest[3] == "heartbeat", (.POST, "workloads", 4) where rest[3] == "heartbeat",
             (.DELETE, "workloads", 3):
            guard let w = registry.workloads().first(where: { $0.namespace == rest[1] && $0.name == rest[2] }) else {
                return notFound("workload \(rest[1])/\(rest[2]) is not registered")
            }
            guard w.namespace == namespace, (w.serviceAccount ?? SpiffeID.defaultServiceAccount) == serviceAccount else {
                return APIAuth.forbidden("the token is for \(scope); workload \(w.namespace)/\(w.name) is not")
            }
            if req.method == .DELETE { _ = registry.deregister(namespace: rest[1], name: rest[2]) } else {
                _ = registry.heartbeat(namespace: rest[1], name: rest[2])
            }
            return .json(.object([("ok", .bool(true))]))
        default:
            return APIAuth.forbidden("a join token (\(scope)) may only register, heartbeat and deregister its own workloads")
        }
    }

    struct TokenRequest: Decodable {
        var namespace: String?
        var serviceAccount: String?
        var ttlSeconds: Double?
    }

    /// `POST /api/v1/tokens {namespace, serviceAccount, ttlSeconds}` (admin): a join token for that identity.
    func createToken(_ body: String) -> APIResponse {
        guard let tokens = auth.tokens else {
            return .json(.object([("errors", .array([.string("this control plane runs --insecure: it issues no tokens")]))]), status: .conflict)
        }
        guard let r = try? JSONDecoder().decode(TokenRequest.self, from: Data(body.utf8)) else {
            return .json(.object([("errors", .array([.string("want {\"namespace\", \"serviceAccount\", \"ttlSeconds\"}")]))]), status: .badRequest)
        }
        let ns = r.namespace ?? "default", sa = r.serviceAccount ?? SpiffeID.defaultServiceAccount, ttl = r.ttlSeconds ?? 3600
        var problems: [String] = []
        if !KubernetesName.isLabel(ns) { problems.append("namespace: \(KubernetesName.labelProblem(ns))") }
        if !KubernetesName.isSubdomain(sa) { problems.append("serviceAccount: \(KubernetesName.subdomainProblem(sa))") }
        if !(ttl >= 1 && ttl <= 366 * 86400) { problems.append("ttlSeconds: must be between 1 and 31622400") }
        guard problems.isEmpty else { return .json(.object([("errors", .array(problems.map(JSONValue.string)))]), status: .badRequest) }
        let expires = auth.clock.now() + ttl
        guard let token = try? tokens.issue(.join(namespace: ns, serviceAccount: sa, expiresAt: expires, rootFingerprint: auth.rootFingerprint)) else {
            return .json(.object([("errors", .array([.string("cannot issue a token")]))]), status: .internalServerError)
        }
        return .json(.object([("token", .string(token)), ("namespace", .string(ns)), ("serviceAccount", .string(sa)),
                              ("expiresAt", .number(expires))]))
    }
}
