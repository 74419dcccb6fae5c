import ArgumentParser
import Foundation
import WeftCore
import WeftMesh

/// `weft up -f mesh.yaml`: the whole mesh of a file on this machine.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run a whole mesh on this machine: control plane, every service with its weft proxy sidecar, and the config.",
        discussion: "See docs/mesh-yaml.md for the file. Ctrl-C (or SIGTERM) stops everything in order."
    )

    @Option(name: .shortAndLong, help: "The mesh file.") var file: String = "mesh.yaml"
    @OptionGroup var mesh: MeshRunOptions

    func run() async throws {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch { throw CLIError("\(file): cannot read: \(error.localizedDescription)") }
        let spec: MeshSpec
        do { spec = try MeshDecoder.decode(text: text, file: file) } catch {
            for d in error.diagnostics { FileHandle.standardError.write(Data((d.description + "\n").utf8)) }
            throw ExitCode(1)
        }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        try await mesh.session(spec, configBase: base, file: file).run()
    }
}

/// Flags shared by `weft up` and `weft demo`.
struct MeshRunOptions: ParsableArguments {
    @Flag(help: "Run on IPv6 loopback only (overrides options.ipv6).") var ipv6 = false
    @Option(help: "The embedded control plane's xDS address (default 127.0.0.1:15010, or [::1]:15010 with --ipv6).") var xds: String?
    @Option(help: "The embedded control plane's API address (default 127.0.0.1:15014, or [::1]:15014 with --ipv6).") var api: String?
    @Option(help: "Folder for logs, registry data and workloads.json (default: a new temporary folder).") var stateDir: String?
    @Flag(help: "Stream the sidecars' own logs too (they always go to the log folder).") var proxyLogs = false
    @Flag(help: "Start a Prometheus beside the mesh that scrapes every proxy through the control plane's service discovery (needs `prometheus` on PATH).")
    var prometheus = false
    @Option(help: "Where that Prometheus listens (default 127.0.0.1:9090, or [::1]:9090 with --ipv6).") var prometheusAddress: String?

    func session(_ spec: MeshSpec, configBase: URL, file: String) throws -> MeshSession {
        var spec = spec
        if ipv6 { spec.options.ipv6 = true }
        if proxyLogs { spec.options.proxyLogs = true }
        let defaults = AddressPlan.controlPlane(ipv6: spec.options.ipv6)
        let xdsAddress = try xds.map { try parseAddress($0, flag: "--xds") } ?? spec.options.xds ?? defaults.xds
        let apiAddress = try api.map { try parseAddress($0, flag: "--api") } ?? spec.options.api ?? defaults.api
        var folder: URL?
        if let c = spec.configFolder {
            let url = c.hasPrefix("/") ? URL(fileURLWithPath: c) : configBase.appendingPathComponent(c)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
                throw CLIError("\(file): config: '\(c)' is not a folder (looked at \(url.path))")
            }
            folder = url.standardizedFileURL
        }
        let dir: URL
        if let stateDir {
            dir = URL(fileURLWithPath: stateDir)
        } else {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-up-\(ProcessInfo.processInfo.processIdentifier)")
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var session = MeshSession(spec: spec, configFolder: folder, stateDir: dir, xds: xdsAddress, api: apiAddress)
        if prometheus {
            guard PrometheusRunner.executable != nil else {
                throw CLIError("--prometheus: no `prometheus` on PATH (Debian and Ubuntu: apt-get install prometheus)")
            }
            session.prometheus = try prometheusAddress.map { try parseAddress($0, flag: "--prometheus-address") }
                ?? HostPort(host: spec.options.ipv6 ? "::1" : "127.0.0.1", port: 9090)
        }
        return session
    }
}
