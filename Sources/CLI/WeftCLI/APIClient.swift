import Foundation
import WeftCore
import WeftHTTPClient

/// The CLI's client of the control plane's API (IPv4 and IPv6 alike).
struct APIClient {
    let server: HostPort

    struct Reply {
        var status: Int
        var json: JSONValue
        var text: String
    }

    func call(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        let r: HTTPClient.Response
        do {
            r = try await HTTPClient.send(method, to: server, target: path, host: server.description,
                                          headers: headers.map { ($0.key, $0.value) }, body: body ?? "")
        } catch {
            throw CLIError("cannot reach the control plane at \(server): \(error)")
        }
        let json = (try? DocumentLoaderBridge.parse(r.body)) ?? .null
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
