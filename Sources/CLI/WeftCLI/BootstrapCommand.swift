import ArgumentParser
import NIOCore
import NIOPosix
import ProxyIdentity
import WeftCore

struct BootstrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bootstrap", abstract: "Print proxy bootstrap config.",
                                                    subcommands: [EnvoyBootstrapCommand.self])
}

struct EnvoyBootstrapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "envoy", abstract: "Print an Envoy bootstrap (YAML) that connects to weft control.")

    @OptionGroup var id: ProxyIdentityOptions

    func run() async throws {
        var boot = EnvoyBootstrap(
            node: id.node, namespace: id.namespace, labels: try parseLabels(id.labels),
            controlPlane: try parseAddress(id.controlPlane, flag: "--control-plane"),
            outbound: try id.outbound.map { try parseAddress($0, flag: "--outbound") }, inbound: id.inbound,
            admin: try parseAddress(id.admin, flag: "--admin"), addresses: Self.hostAddresses(), locality: id.locality,
            serviceAccount: id.serviceAccount
        )
        let link = try ControlPlaneLink(address: boot.controlPlane, token: id.joinToken, rootPEM: try id.rootPEM())
        if !link.isPlaintext {
            // The root now (checked against the token's fingerprint), so Envoy can check the control plane.
            let root: String
            do { root = try await RootDiscovery.fetchRoot(link, group: MultiThreadedEventLoopGroup.singleton) } catch {
                throw CLIError("cannot learn the mesh root from \(boot.controlPlane): \(error)")
            }
            boot.xdsTLS = .init(rootPEM: root, clientCertPEM: link.throwaway.certPEM, clientKeyPEM: link.throwaway.keyPEM, token: link.token)
        }
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
