import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import WeftCore

/// A small client of the control plane's HTTP API for the CLI.
struct APIClient {
    let server: HostPort

    struct Reply {
        var status: Int
        var json: JSONValue
        var text: String
    }

    func call(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        guard let url = URL(string: "http://\(server)\(path)") else { throw CLIError("bad server address \(server)") }
        var req = URLRequest(url: url)
        req.httpMethod = method
        req.timeoutInterval = 10
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        if let body { req.httpBody = Data(body.utf8) }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: req)
        } catch {
            throw CLIError("cannot reach the control plane at \(server): \(error.localizedDescription)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let json = (try? DocumentLoaderBridge.parse(text)) ?? .null
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, json: json, text: text)
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
