import Foundation
import WeftCore
import WeftHTTPClient

/// The CLI's client of the control plane's API (IPv4 and IPv6 alike).
struct APIClient {
    let server: HostPort
    /// `--token`; without it, `WEFT_TOKEN`, then the CLI config's token for this server (read at each call, so a
    /// control plane that records itself after the client was made is still found).
    var token: String? = nil

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
        do {
            r = try await HTTPClient.send(method, to: server, target: path, host: server.description,
                                          headers: headers.map { ($0.key, $0.value) }, body: body ?? "")
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
