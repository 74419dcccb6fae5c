import ArgumentParser
import NIOCore
import WeftCore
import XDSServer

struct BootstrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bootstrap", abstract: "Print proxy bootstrap config.",
                                                    subcommands: [EnvoyBootstrapCommand.self])
}

struct EnvoyBootstrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "envoy", abstract: "Print an Envoy bootstrap (YAML) that connects to weft control.")

    @Option(help: "Node id, unique per proxy.") var node: String
    @Option(help: "The proxy's namespace.") var namespace: String = "default"
    @Option(help: "The proxy's labels, k=v,k2=v2.") var labels: String = ""
    @Option(help: "weft control's xDS address.") var controlPlane: String = "127.0.0.1:15010"
    @Option(help: "Address of the outbound (explicit HTTP proxy) listener.") var outbound: String?
    @Option(help: "Inbound listener LISTEN=APP[=http|http2|grpc|tcp], repeatable.") var inbound: [String] = []
    @Option(help: "Envoy admin address.") var admin: String = "127.0.0.1:15000"

    func run() throws {
        let labelMap = try parseLabels(labels)
        for ib in inbound {
            do { _ = try NodeDecoder.parseInbound(ib) } catch { throw ValidationError("--inbound: \(error.message)") }
        }
        let boot = EnvoyBootstrap(
            node: node, namespace: namespace, labels: labelMap,
            controlPlane: try parseAddress(controlPlane, flag: "--control-plane"),
            outbound: try outbound.map { try parseAddress($0, flag: "--outbound") }, inbound: inbound,
            admin: try parseAddress(admin, flag: "--admin"), addresses: Self.hostAddresses()
        )
        print(YAMLWriter.write(boot.document()), terminator: "")
    }

    /// Every address of this host (all interfaces, IPv4 and IPv6), so services on any interface are found.
    static func hostAddresses() -> [String] {
        let devices = (try? System.enumerateDevices()) ?? []
        var out: [String] = []
        for d in devices {
            if let ip = d.address?.ipAddress, !out.contains(ip) { out.append(ip.split(separator: "%").first.map(String.init) ?? ip) }
        }
        return out
    }
}
