import ArgumentParser
import WeftCore

/// `weft dashboard`: prints the URL of the control plane's live dashboard, with the API token in its fragment.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard", abstract: "Print the URL of the live dashboard (service graph, rates, errors, latency), token included.")
    @OptionGroup var server: ServerOption

    func run() async throws {
        let client = try server.client()
        let reply = try await client.call("GET", "/api/v1/status")
        guard reply.status == 200 else { throw CLIError(reply.text) }
        print(MeshTable.dashboardURL(client))
    }
}
