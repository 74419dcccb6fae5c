import Foundation
import WeftCore
import WeftHTTPClient
import WeftHTTPServer

/// What a sample service learns from its environment (set by `weft up` / `weft run`).
struct SampleEnv: Sendable {
    let listen: HostPort
    let service: String
    let version: String
    let workload: String
    let proxy: HostPort?

    init(_ e: [String: String] = ProcessInfo.processInfo.environment) {
        let port = Int(e["PORT"] ?? "") ?? 8080
        listen = (try? HostPort(parsing: e["WEFT_LISTEN"] ?? "")) ?? HostPort(host: "127.0.0.1", port: port)
        service = e["WEFT_SERVICE"]?.split(separator: ",").first.map(String.init) ?? "sample"
        version = e["WEFT_VERSION"] ?? "v1"
        workload = e["WEFT_WORKLOAD"] ?? service
        proxy = HTTPClient.proxyAddress(e["HTTP_PROXY"] ?? e["http_proxy"])
    }

    /// The headers a service passes on to the ones it calls, so header routes see the original user and the
    /// sidecars' spans join one trace (W3C and B3, as Istio's sample apps pass them).
    static let propagated = ["end-user", "x-request-id", "traceparent", "tracestate", "x-b3-traceid", "x-b3-spanid",
                             "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "b3"]

    /// Calls another service of the mesh (`http://reviews:9080/...`) through the sidecar; the JSON answer,
    /// or an object saying what went wrong.
    func call(_ url: String, from req: APIRequest) async -> [String: Any] {
        let headers = Self.propagated.compactMap { name in req.headers.first(name: name).map { (name, $0) } }
        do {
            let r = try await HTTPClient.get(url, headers: headers, proxy: proxy, timeout: .seconds(3))
            guard r.status == 200, let obj = Self.parse(r.body) else {
                return ["error": "HTTP \(r.status)", "body": String(r.body.prefix(200))]
            }
            return obj
        } catch {
            return ["error": "\(error)"]
        }
    }

    static func parse(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// A JSON answer that always names the service, version and workload that produced it.
    func json(_ fields: [String: Any], status: HTTPResponseStatusCode = 200) -> APIResponse {
        var all = fields
        all["service"] = service
        all["version"] = version
        all["workload"] = workload
        let data = (try? JSONSerialization.data(withJSONObject: all, options: [.prettyPrinted, .sortedKeys])) ?? Data("{}".utf8)
        return APIResponse(status: .init(statusCode: status), body: String(decoding: data, as: UTF8.self) + "\n")
    }
}

typealias HTTPResponseStatusCode = Int

/// One log line on stdout, unbuffered (stdout is a pipe under `weft up`).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
