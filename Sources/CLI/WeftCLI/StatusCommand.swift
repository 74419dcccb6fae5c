import ArgumentParser
import Foundation
import WeftCore

/// `weft status`: services with their workloads and versions, each proxy's sync state, the routes in effect
/// and config errors; `-o json` prints the API's status document as is.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show services and workloads, proxies' sync state, routes in effect, and config errors.")
    @Option(name: .shortAndLong, help: "Output: table or json.") var output: String = "table"
    @OptionGroup var server: ServerOption

    func run() async throws {
        let client = try server.client()
        let reply = try await client.call("GET", "/api/v1/status")
        guard reply.status == 200 else { throw CLIError(reply.text) }
        if output == "json" {
            print(reply.json.serialized(pretty: true))
            return
        }
        let vs = try await client.call("GET", "/api/v1/resources?kind=VirtualService&namespace=")
        print(StatusReport(status: reply.json, virtualServices: vs.json["resources"]?.arrayValue ?? []).render(), terminator: "")
    }
}

/// The text of `weft status`, from the API's documents.
struct StatusReport {
    let status: JSONValue
    let virtualServices: [JSONValue]

    func render() -> String {
        var out = "config version \(status["version"]?.numberValue.map { Int($0) } ?? 0)\n\nSERVICES\n"
        var rows = [["SERVICE", "WORKLOAD", "VERSION", "ENDPOINT", "ADDRESSES", "EXPIRES"]]
        let now = Date().timeIntervalSince1970
        for w in status["workloads"]?.arrayValue ?? [] {
            let name = w["name"]?.stringValue ?? ""
            let addresses = w["addresses"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let version = w["labels"]?["version"]?.stringValue ?? "-"
            let expires = w["expiresAt"]?.numberValue.map { String(format: "in %.1fs", $0 - now) } ?? "never"
            for s in w["services"]?.arrayValue ?? [] {
                let port = s["targetPort"]?.numberValue ?? s["port"]?.numberValue ?? 0
                let endpoint = HostPort(host: addresses.first ?? "-", port: Int(port)).description
                rows.append(["\(s["name"]?.stringValue ?? ""):\(Int(s["port"]?.numberValue ?? 0))", name, version, endpoint,
                             addresses.joined(separator: ","), expires])
            }
        }
        out += rows.count > 1 ? MeshTable.table(rows.sortedKeepingHeader()) : "(no registered workloads)\n"
        out += "\nPROXIES\n"
        var prows = [["PROXY", "CONNECTED", "SYNC", "ACKED VERSIONS (cluster/listener/route/endpoint)", "MTLS IDENTITY", "NACK"]]
        for p in status["proxies"]?.arrayValue ?? [] {
            let acked = p["acked"], sent = p["sent"]
            let types = ["Cluster", "Listener", "RouteConfiguration", "ClusterLoadAssignment"]
            func version(_ doc: JSONValue?, _ t: String) -> String {
                guard case let .object(pairs)? = doc else { return "-" }
                return pairs.first { $0.0.hasSuffix(".\(t)") }?.1.stringValue ?? "-"
            }
            let inSync = types.allSatisfy { version(acked, $0) == version(sent, $0) }
            let nack = p["nack"]?.stringValue
            prows.append([p["id"]?.stringValue ?? "", p["connected"] == .bool(true) ? "yes" : "no",
                          nack != nil ? "NACKED" : inSync ? "ACKed" : "pending",
                          types.map { version(acked, $0) }.joined(separator: "/"), Self.mtls(p["certificate"], now: now), nack ?? "-"])
        }
        out += prows.count > 1 ? MeshTable.table(prows) : "(no proxies connected)\n"
        out += "\nPOLICIES\n" + Self.policies(status["proxies"]?.arrayValue ?? [])
        out += "\nROUTES\n" + RouteSummary.render(virtualServices)
        let errors = status["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
        out += "\nCONFIG ERRORS\n" + (errors.isEmpty ? "none\n" : errors.map { "  \($0)\n" }.joined())
        return out
    }
}

extension StatusReport {
    /// Per proxy, the AuthorizationPolicies (with their action) and RequestAuthentications its workload gets.
    static func policies(_ proxies: [JSONValue]) -> String {
        var rows = [["PROXY", "AUTHORIZATION", "JWT (REQUEST AUTHENTICATION)"]]
        for p in proxies {
            let authz = p["policies"]?["authorization"]?.arrayValue ?? []
            let authn = p["policies"]?["authentication"]?.arrayValue ?? []
            guard !authz.isEmpty || !authn.isEmpty else { continue }
            let a = authz.map { x in
                let name = "\(x["namespace"]?.stringValue ?? "")/\(x["name"]?.stringValue ?? "")"
                return "\(name) \(x["action"]?.stringValue ?? "")" + (x["dryRun"] == .bool(true) ? " (dry-run)" : "")
            }
            let j = authn.map { x in
                "\(x["namespace"]?.stringValue ?? "")/\(x["name"]?.stringValue ?? "")"
                    + " [\((x["issuers"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))]"
            }
            rows.append([p["id"]?.stringValue ?? "", a.isEmpty ? "-" : a.joined(separator: ", "), j.isEmpty ? "-" : j.joined(separator: ", ")])
        }
        return rows.count > 1 ? MeshTable.table(rows) : "(no AuthorizationPolicy or RequestAuthentication applies to a connected proxy)\n"
    }

    /// The proxy's mesh identity and how long its certificate has left, or `off` (no certificate: plaintext only).
    static func mtls(_ cert: JSONValue?, now: Double) -> String {
        guard let id = cert?["identity"]?.stringValue, let expires = cert?["expiresAt"]?.numberValue else { return "off" }
        let left = expires - now
        let text = left > 3600 ? String(format: "%.0fh", left / 3600) : left > 60 ? String(format: "%.0fm", left / 60) : String(format: "%.0fs", left)
        return "\(id) (cert \(text) left)"
    }
}

extension Array where Element == [String] {
    func sortedKeepingHeader() -> [[String]] { [self[0]] + dropFirst().sorted { $0.lexicographicallyPrecedes($1) } }
}
