import Foundation
import NIOCore
import NIOSSL
import ProxyIdentity
import WeftCore
import WeftHTTPClient

/// The CLI's client of the control plane's API (IPv4 and IPv6 alike).
struct APIClient {
    let server: HostPort
    /// `--token`; without it, `WEFT_TOKEN`, then the CLI config's token for this server (read at each call, so a
    /// control plane that records itself after the client was made is still found).
    var token: String? = nil
    /// HTTPS (`https://` in `--server`, or any address beyond loopback unless `http://`), as the API serves it.
    var https: Bool? = nil
    /// `--ca-cert` (or `WEFT_CA_CERT`): the mesh root to check an HTTPS API by.
    var rootPEM: String? = nil

    var usesHTTPS: Bool { https ?? !server.isLoopback }

    var bearer: String? {
        if let token, !token.isEmpty { return token }
        if let env = ProcessInfo.processInfo.environment["WEFT_TOKEN"], !env.isEmpty { return env }
        return CLIConfigFile.load().token(for: server.description)
    }

    struct Reply {
        var status: Int
        var json: JSONValue
        var text: String
    }

    func call(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        let r: HTTPClient.Response
        var headers = headers
        if let bearer { headers["authorization"] = "Bearer \(bearer)" }
        let secure = usesHTTPS ? try tls() : nil
        do {
            r = try await HTTPClient.send(method, to: server, target: path, host: server.description,
                                          headers: headers.map { ($0.key, $0.value) }, body: body ?? "", secure: secure)
        } catch {
            throw CLIError("cannot reach the control plane at \(server): \(error)")
        }
        let json = (try? DocumentLoaderBridge.parse(r.body)) ?? .null
        if r.status == 401 {
            throw CLIError("the control plane at \(server) refused the request: \(Self.errorLines(Reply(status: r.status, json: json, text: r.body)).joined(separator: "; "))"
                           + "\ngive a token with --token or WEFT_TOKEN (the admin token is in the control plane's <data>/auth/admin-token; `weft control` records it in \(CLIConfigFile.path) for the user who started it)")
        }
        return Reply(status: r.status, json: json, text: r.body)
    }

    /// TLS checked against the mesh root: `--ca-cert`, else the fingerprint the token or the CLI config carries;
    /// the API's certificate must lead from a control plane identity to it (ControlPlaneVerifier).
    func tls() throws -> @Sendable (Channel) throws -> Void {
        let anchor: ControlPlaneAnchor
        if let pem = rootPEM ?? ProcessInfo.processInfo.environment["WEFT_CA_CERT"].flatMap({ FileManager.default.contents(atPath: $0) })
            .flatMap({ String(data: $0, encoding: .utf8) }) {
            anchor = .root(pem: pem)
        } else if let pin = bearer.flatMap({ JoinTokenHint(token: $0)?.rootFingerprint }) ?? CLIConfigFile.load().servers[server.description]?.ca {
            anchor = .fingerprint(pin)
        } else {
            throw CLIError("the API at \(server) is HTTPS: give the mesh root with --ca-cert FILE or WEFT_CA_CERT (the control plane's <data>/ca/root-cert.pem), or a join token, which carries its fingerprint")
        }
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: config)
        return { channel in
            let handler = try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, promise in
                promise.succeed(ControlPlaneVerifier.accepts(certificates, anchor: anchor) ? .certificateVerified : .failed)
            }
            try channel.pipeline.syncOperations.addHandler(handler)
        }
    }

    /// `POST /api/v1/tokens`: a join token for one workload identity (admin token needed).
    func createJoinToken(namespace: String, serviceAccount: String, ttlSeconds: Double) async throws -> Reply {
        let body = JSONValue.object([("namespace", .string(namespace)), ("serviceAccount", .string(serviceAccount)),
                                     ("ttlSeconds", .number(ttlSeconds))])
        return try await call("POST", "/api/v1/tokens", body: body.serialized(pretty: false))
    }

    /// The `errors` list of a refused request, one line each.
    static func errorLines(_ reply: Reply) -> [String] {
        if case let .array(items)? = reply.json["errors"] { return items.compactMap(\.stringValue) }
        return [reply.text]
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
