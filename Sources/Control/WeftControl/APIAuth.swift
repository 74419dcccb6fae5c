import Foundation
import NIOHTTP1
import WeftCA
import WeftCore
import WeftHTTPServer

/// Who may call the control plane's API: the admin token may do everything; a join token may register and
/// heartbeat workloads of its own namespace and service account, nothing else. Without a valid token: 401; with
/// one whose scope does not cover the request: 403. Both change nothing. `open` (`--insecure`) lets anyone in.
public struct APIAuth: Sendable {
    enum Caller: Equatable {
        case admin
        case workload(namespace: String, serviceAccount: String)
    }

    let tokens: TokenAuthority?
    let clock: any WallClock
    /// The mesh root's SHA-256, written into join tokens so proxies can check the xDS server before trusting it.
    let rootFingerprint: String?

    /// No checks (`weft control --insecure`, and tests of the API itself).
    public static let open = APIAuth(tokens: nil, clock: SystemWallClock())

    public init(tokens: TokenAuthority?, clock: any WallClock, rootFingerprint: String? = nil) {
        self.tokens = tokens
        self.clock = clock
        self.rootFingerprint = rootFingerprint
    }

    enum Outcome {
        case caller(Caller)
        case refused(APIResponse)
    }

    func caller(_ req: APIRequest) -> Outcome {
        guard let tokens else { return .caller(.admin) }
        guard let header = req.headers.first(name: "authorization"), header.lowercased().hasPrefix("bearer ") else {
            return .refused(Self.unauthorized("a token is required (Authorization: Bearer TOKEN; the CLI reads --token, WEFT_TOKEN or its config file)"))
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        do {
            let claims = try tokens.verify(token, now: clock.now())
            switch claims.kind {
            case .admin: return .caller(.admin)
            case .join:
                guard let ns = claims.namespace, let sa = claims.serviceAccount else { return .refused(Self.unauthorized("the token has no scope")) }
                return .caller(.workload(namespace: ns, serviceAccount: sa))
            }
        } catch {
            return .refused(Self.unauthorized("\(error)"))
        }
    }

    static func unauthorized(_ why: String) -> APIResponse {
        .json(.object([("errors", .array([.string("unauthorized: \(why)")]))]), status: .unauthorized)
    }

    static func forbidden(_ why: String) -> APIResponse {
        .json(.object([("errors", .array([.string("forbidden: \(why)")]))]), status: .forbidden)
    }
}
