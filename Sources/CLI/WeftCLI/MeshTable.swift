import Foundation
import WeftCore
import WeftMesh

/// The table `weft up` prints once the mesh is ready: what runs where.
enum MeshTable {
    static func render(_ runners: [WorkloadRunner], xds: HostPort, api: HostPort, logs: String, state: String) -> String {
        var rows = [["WORKLOAD", "SERVICE", "VERSION", "STATE", "APP (pid)", "SIDECAR INBOUND", "OUTBOUND (HTTP_PROXY)", "ADMIN"]]
        for r in runners {
            let p = r.plan
            rows.append([
                p.name, p.services.map { "\($0.name):\($0.port)" }.joined(separator: ","), p.labels["version"] ?? "-",
                r.isReady ? "ready" : "starting",
                "\(p.app) (\(r.app.pid.map(String.init) ?? "-"))",
                p.services.map { HostPort(host: p.address, port: $0.inboundPort).description }.joined(separator: ","),
                p.outbound.description, "http://\(p.admin)",
            ])
        }
        var out = "\n" + table(rows)
        out += "\ncontrol plane: xDS \(xds), API http://\(api)   (weft status --server \(api))"
        out += "\ndashboard: \(dashboardURL(api: api))"
        out += "\nlogs: \(logs)   state: \(state)\nCtrl-C stops everything.\n"
        return out
    }

    /// The live dashboard's URL, with the API token in the fragment (as Jupyter prints its URL: open it as it is).
    static func dashboardURL(api: HostPort) -> String { dashboardURL(APIClient(server: api)) }

    static func dashboardURL(_ client: APIClient) -> String {
        let token = client.bearer.map { "#token=\($0)" } ?? ""
        return "\(client.usesHTTPS ? "https" : "http")://\(client.server)/dashboard\(token)"
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
