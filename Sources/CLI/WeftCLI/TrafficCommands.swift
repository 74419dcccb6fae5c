import ArgumentParser
import Foundation
import WeftCore
import WeftTraffic

/// `weft top`: the mesh's services with their request rate, errors and latency, refreshed live (or printed once).
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "Services with requests per second, error rate and latency, refreshed live (from the control plane's metrics).")
    @Flag(help: "Print one table and exit (for scripts and logs).") var once = false
    @Option(help: "Seconds between refreshes.") var interval: Double = 2
    @OptionGroup var server: ServerOption

    func run() async throws {
        let client = try server.client()
        while true {
            let graph = try await TrafficReport.fetch(client)
            let text = TrafficReport.services(graph)
            if once {
                print(text, terminator: "")
                return
            }
            // Clear the screen and draw from the top left, as top does.
            FileHandle.standardOutput.write(Data(("\u{1B}[2J\u{1B}[H" + text).utf8))
            try await Task.sleep(for: .milliseconds(Int(max(0.2, interval) * 1000)))
        }
    }
}

/// `weft metrics SERVICE`: one service's traffic, by version and by caller.
struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "One service's requests per second, errors and latency, by version and by caller.")
    @Argument(help: "The service: its host, or its short name (reviews, reviews.shop).") var service: String
    @Option(name: .shortAndLong, help: "Output: table or json.") var output: String = "table"
    @OptionGroup var server: ServerOption

    func run() async throws {
        let graph = try await TrafficReport.fetch(try server.client())
        guard let s = TrafficReport.find(service, in: graph) else {
            let known = graph.services.map(\.host).joined(separator: ", ")
            throw CLIError("no traffic seen for service '\(service)' in the last window" + (known.isEmpty ? "" : " (services with traffic: \(known))"))
        }
        if output == "json" {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            let edges = graph.edges.filter { $0.key.service == s.host }
            print(String(decoding: try e.encode(TrafficReport.ServiceDetail(service: s, edges: edges)), as: UTF8.self))
            return
        }
        print(TrafficReport.detail(s, graph), terminator: "")
    }
}

/// The text of `weft top` and `weft metrics`, from the API's service graph.
enum TrafficReport {
    struct ServiceDetail: Encodable {
        var service: ServiceGraph.Service
        var edges: [ServiceGraph.Edge]
    }

    static func fetch(_ client: APIClient) async throws -> ServiceGraph {
        let reply = try await client.call("GET", "/api/v1/graph")
        guard reply.status == 200 else { throw CLIError(reply.text) }
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "+Inf", negativeInfinity: "-Inf", nan: "NaN")
        return try d.decode(ServiceGraph.self, from: Data(reply.text.utf8))
    }

    static func find(_ name: String, in g: ServiceGraph) -> ServiceGraph.Service? {
        g.services.first { $0.host == name } ?? g.services.first { "\($0.name).\($0.namespace)" == name }
            ?? g.services.first { $0.name == name }
    }

    static func ms(_ v: Double?) -> String { v.map { String(format: "%.1fms", $0) } ?? "-" }
    static func rate(_ v: Double) -> String { String(format: "%.1f", v) }
    static func percent(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }

    static func header(_ g: ServiceGraph) -> String {
        var out = String(format: "window %.0fs, %d proxies", g.windowSeconds, g.proxies)
        if !g.unreachable.isEmpty { out += ", metrics unreachable: " + g.unreachable.joined(separator: ", ") }
        return out + "\n\n"
    }

    static func services(_ g: ServiceGraph) -> String {
        var rows = [["SERVICE", "NAMESPACE", "VERSIONS", "RPS", "ERRORS", "P50", "P99"]]
        for s in g.services.sorted(by: { ($0.rps, $1.host) > ($1.rps, $0.host) }) {
            rows.append([s.name, s.namespace, s.versions.isEmpty ? "-" : s.versions.joined(separator: ","), rate(s.rps),
                         percent(s.errorRate), ms(s.p50), ms(s.p99)])
        }
        return header(g) + (rows.count > 1 ? MeshTable.table(rows) : "(no traffic in the last window)\n")
    }

    static func detail(_ s: ServiceGraph.Service, _ g: ServiceGraph) -> String {
        var out = header(g) + "\(s.host): \(rate(s.rps)) rps, \(percent(s.errorRate)) errors, p50 \(ms(s.p50)), p99 \(ms(s.p99))\n"
        let flags = s.errorsByFlag.sorted { $0.value > $1.value }.map { "\($0.key) \(rate($0.value))/s" }
        if !flags.isEmpty { out += "errors by response flag: " + flags.joined(separator: ", ") + "\n" }
        var rows = [["CALLER", "NAMESPACE", "VERSION", "RPS", "ERRORS", "P50", "P99", "MTLS"]]
        for e in g.edges where e.key.service == s.host {
            rows.append([e.key.source, e.key.sourceNamespace, e.key.version, rate(e.rps), percent(e.errorRate), ms(e.p50), ms(e.p99),
                         e.mtls ? "yes" : "no"])
        }
        return out + "\n" + MeshTable.table(rows)
    }
}
