import Foundation
import ArgumentParser
import WeftCore

@available(macOS 10.15, *)
public struct WeftCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "weft",
        abstract: "Weft: a service mesh. Istio's configuration, Envoy's xDS, no Kubernetes needed.",
        subcommands: [DemoCommand.self, UpCommand.self, RunCommand.self, StatusCommand.self, ApplyCommand.self, GetCommand.self,
                      DeleteCommand.self, ValidateCommand.self, ControlCommand.self, ProxyCommand.self, BootstrapCommand.self,
                      SampleCommand.self, TokenCommand.self, CheckCommand.self, TopCommand.self, MetricsCommand.self, DashboardCommand.self]
    )

    public init() {}
}

/// Parses `host:port` flags with a message that names the flag.
func parseAddress(_ text: String, flag: String) throws -> HostPort {
    do { return try HostPort(parsing: text, field: flag) } catch { throw ValidationError(error.description) }
}

/// Shared `--server` option for commands that talk to a running control plane.
struct ServerOption: ParsableArguments {
    @Option(name: .long, help: "Address of the control plane's API (host:port, IPv6 as [::1]:15014; https:// or http:// to choose, default HTTPS beyond loopback).")
    var server: String = "127.0.0.1:15014"
    @Option(name: .long, help: "API token (default: $WEFT_TOKEN, else the one `weft control` recorded for --server in the CLI config).")
    var token: String?
    @Option(name: .long, help: "The mesh root (PEM) to check an HTTPS API by (default: $WEFT_CA_CERT, else the fingerprint in the token or CLI config).")
    var caCert: String?

    func client() throws -> APIClient {
        var text = server, https: Bool?
        if text.hasPrefix("https://") { https = true; text.removeFirst(8) } else if text.hasPrefix("http://") { https = false; text.removeFirst(7) }
        if text.hasSuffix("/") { text.removeLast() }
        var pem: String?
        if let caCert {
            guard let s = FileManager.default.contents(atPath: caCert).flatMap({ String(data: $0, encoding: .utf8) }),
                  s.contains("BEGIN CERTIFICATE") else { throw ValidationError("--ca-cert: '\(caCert)' is not a readable PEM certificate file") }
            pem = s
        }
        return APIClient(server: try parseAddress(text, flag: "--server"), token: token, https: https, rootPEM: pem)
    }
}
