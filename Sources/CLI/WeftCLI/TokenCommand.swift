import ArgumentParser
import Foundation
import WeftCore

/// `weft token create`: a join token for one workload identity, from the control plane (admin token needed).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Issue join tokens for workloads.",
                                                    subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a join token: it lets its bearer register and heartbeat workloads of one namespace and service account, nothing else.")

        @Option(help: "The workload's namespace.") var namespace: String = "default"
        @Option(help: "The workload's service account.") var serviceAccount: String = "default"
        @Option(help: "How long the token is accepted (e.g. 1h, 30m, 24h).") var ttl: String = "1h"
        @OptionGroup var server: ServerOption

        func run() async throws {
            guard let nanos = ConfigDuration.nanoseconds(ttl), nanos >= 1_000_000_000 else {
                throw ValidationError("--ttl: '\(ttl)' is not a duration of at least 1s (e.g. 1h, 30m)")
            }
            let reply = try await server.client().createJoinToken(namespace: namespace, serviceAccount: serviceAccount,
                                                                  ttlSeconds: Double(nanos) / 1e9)
            guard reply.status == 200, let token = reply.json["token"]?.stringValue else {
                throw CLIError(APIClient.errorLines(reply).joined(separator: "\n"))
            }
            print(token)
        }
    }
}
