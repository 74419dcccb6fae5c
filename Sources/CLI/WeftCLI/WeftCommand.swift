import ArgumentParser
import WeftCore

@available(macOS 10.15, *)
public struct WeftCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "weft",
        abstract: "Weft: a service mesh. Istio's configuration, Envoy's xDS, no Kubernetes needed.",
        subcommands: [DemoCommand.self, UpCommand.self, RunCommand.self, StatusCommand.self, ApplyCommand.self, GetCommand.self,
                      DeleteCommand.self, ValidateCommand.self, ControlCommand.self, ProxyCommand.self, BootstrapCommand.self,
                      SampleCommand.self, TokenCommand.self]
    )

    public init() {}
}

/// Parses `host:port` flags with a message that names the flag.
func parseAddress(_ text: String, flag: String) throws -> HostPort {
    do { return try HostPort(parsing: text, field: flag) } catch { throw ValidationError(error.description) }
}

/// Shared `--server` option for commands that talk to a running control plane.
struct ServerOption: ParsableArguments {
    @Option(name: .long, help: "Address of the control plane's API (host:port, IPv6 as [::1]:15014).")
    var server: String = "127.0.0.1:15014"
    @Option(name: .long, help: "API token (default: $WEFT_TOKEN, else the one `weft control` recorded for --server in the CLI config).")
    var token: String?

    func client() throws -> APIClient { APIClient(server: try parseAddress(server, flag: "--server"), token: token) }
}
