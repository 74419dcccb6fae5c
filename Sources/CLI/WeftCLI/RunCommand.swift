import ArgumentParser
import Foundation
import WeftCore
import WeftMesh

/// `weft run`: puts one process (a VM's or bare-metal host's service) on a running mesh with its own sidecar.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Put one process on a running mesh: start its weft proxy sidecar, register it, heartbeat, deregister on exit.",
        discussion: """
        Example: weft run --service reviews --port 9080 --labels version=v2 -- python3 reviews.py
        As a WorkloadGroup's member (Istio's auto-registration): weft run --group reviews --labels version=v2 -- python3 reviews.py
        """
    )
    @Option(help: "Join as a workload of this WorkloadGroup (in --namespace): its template gives the labels, ports and service account, and the ServiceEntries that select those labels send traffic here; no --service needed.")
    var group: String?

    @Option(name: .customLong("service"), help: "A service this process carries, NAME or NAME:PORT; repeatable.") var services: [String] = []
    @Option(help: "The service port for services given without one (callers use http://NAME:PORT).") var port: Int?
    @Option(help: "The port the app listens on (default: the first service port + 10000); the app gets it as PORT.") var targetPort: Int?
    @Option(help: "Protocol of the services: http, http2, grpc or tcp.") var `protocol`: String = "http"
    @Option(help: "Workload name (default: HOST-SERVICE[-VERSION]).") var name: String?
    @Option(help: "The workload's namespace.") var namespace: String = "default"
    @Option(help: "The service account it runs as, its SPIFFE identity (default: the WorkloadGroup's, else the first service's name).")
    var serviceAccount: String?
    @Option(help: "Labels, k=v,k2=v2 (app defaults to the first service).") var labels: String = ""
    @Option(name: .customLong("address"), help: "An address of this host to register and listen on; repeatable (default: all of the host's addresses).")
    var addresses: [String] = []
    @Option(help: "Outbound (HTTP_PROXY) listener (default: FIRST-ADDRESS:15001).") var outbound: String?
    @Option(help: "Sidecar admin address (default: FIRST-ADDRESS:15000).") var admin: String?
    @Option(help: "weft control's xDS address.") var controlPlane: String = "127.0.0.1:15010"
    @Option(help: "Registration TTL in seconds; heartbeats go every third of it.") var ttl: Double = 10
    @Flag(help: "Stream the sidecar's own log too.") var proxyLogs = false
    @OptionGroup var server: ServerOption
    @Argument(parsing: .postTerminator, help: "The command to run, after --.") var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command to run after --, e.g. weft run --service web --port 8080 -- ./web") }
        guard ["http", "http2", "grpc", "tcp"].contains(`protocol`) else { throw ValidationError("--protocol must be http, http2, grpc or tcp") }
        guard ttl > 0 else { throw ValidationError("--ttl must be greater than 0") }
        if let group {
            guard services.isEmpty else { throw ValidationError("--group and --service do not go together: the group's ServiceEntries name the services") }
            guard KubernetesName.isSubdomain(group) else { throw ValidationError("--group \(group): \(KubernetesName.subdomainProblem(group))") }
        } else {
            _ = try plan()
        }
    }

    /// What a WorkloadGroup gives a member: its template's ports and its labels (metadata over template).
    struct GroupTemplate {
        var ports: [(name: String, number: Int)]
        var labels: [String: String]
        var serviceAccount: String?

        init(document spec: JSONValue) {
            var ports: [(String, Int)] = []
            if case let .object(pairs)? = spec["template"]?["ports"] {
                for (k, v) in pairs { if case let .number(n) = v { ports.append((k, Int(n))) } }
            }
            self.ports = ports.sorted { $0.1 < $1.1 }
            func labels(_ v: JSONValue?) -> [String: String] {
                guard case let .object(pairs)? = v else { return [:] }
                return Dictionary(pairs.compactMap { k, v in v.stringValue.map { (k, $0) } }, uniquingKeysWith: { a, _ in a })
            }
            self.labels = labels(spec["template"]?["labels"]).merging(labels(spec["metadata"]?["labels"])) { _, g in g }
            serviceAccount = spec["template"]?["serviceAccount"]?.stringValue
        }

        /// The protocol Istio's port-name convention gives a port (`grpc-api`, `http2`, `tcp-db`), else `fallback`.
        static func proto(_ name: String, fallback: String) -> String {
            for p in ["http2", "grpc", "http", "tcp"] where name == p || name.hasPrefix(p + "-") { return p }
            return fallback
        }
    }

    func plan(group template: GroupTemplate? = nil) throws -> WorkloadPlan {
        var carried: [WorkloadPlan.Carried] = []
        for p in template?.ports ?? [] {
            carried.append(.init(name: p.name, port: p.number, inboundPort: p.number, protocol: GroupTemplate.proto(p.name, fallback: `protocol`)))
        }
        for s in services {
            let parts = s.split(separator: ":", maxSplits: 1).map(String.init)
            guard let svcPort = parts.count == 2 ? Int(parts[1]) : port, PortNumber.isValid(svcPort), !parts[0].isEmpty else {
                throw ValidationError("--service \(s): give NAME:PORT, or NAME with --port")
            }
            carried.append(.init(name: parts[0], port: svcPort, inboundPort: svcPort, protocol: `protocol`))
        }
        guard let first = carried.first else {
            throw ValidationError(template == nil ? "give at least one --service" : "WorkloadGroup \(group ?? "") has no template ports: nothing to serve")
        }
        var l = (template?.labels ?? [:]).merging(try parseLabels(labels)) { _, own in own }
        if l["app"] == nil && template == nil { l["app"] = first.name }
        let hosts = addresses.isEmpty ? Self.defaultAddresses() : addresses
        for a in hosts where !(a.contains(".") || a.contains(":")) { throw ValidationError("--address \(a) is not an IP address") }
        let appPort = targetPort ?? ServiceSpec.defaultTargetPort(first.port)
        if carried.contains(where: { $0.port == appPort }) { throw ValidationError("--target-port \(appPort) is a service port; the sidecar listens there") }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init)?.lowercased() ?? "host"
        let groupName = group.map { [$0, hosts[0].replacingOccurrences(of: ":", with: "-")].joined(separator: "-") }
        let workload = name ?? groupName ?? ([host, first.name] + (l["version"].map { [$0] } ?? [])).joined(separator: "-")
        var plan = WorkloadPlan(
            name: workload, namespace: namespace, labels: l, addresses: hosts, services: carried, appPort: appPort,
            outbound: try outbound.map { try parseAddress($0, flag: "--outbound") } ?? HostPort(host: hosts[0], port: 15001),
            admin: try admin.map { try parseAddress($0, flag: "--admin") } ?? HostPort(host: hosts[0], port: 15000),
            command: .argv(command))
        plan.group = group
        if let sa = serviceAccount ?? template?.serviceAccount { plan.serviceAccount = sa }
        guard KubernetesName.isSubdomain(plan.serviceAccount) else {
            throw ValidationError("--service-account: \(KubernetesName.subdomainProblem(plan.serviceAccount))")
        }
        return plan
    }

    /// The WorkloadGroup named by --group, from the control plane.
    func fetchGroup(_ client: APIClient) async throws -> GroupTemplate? {
        guard let group else { return nil }
        let r = try await client.call("GET", "/api/v1/resources?kind=WorkloadGroup&namespace=\(namespace)&name=\(group)")
        guard r.status == 200, case let .array(items)? = r.json["resources"], let spec = items.first?["spec"] else {
            throw CLIError("no WorkloadGroup \(namespace)/\(group) on the control plane at \(server.server); apply one first (weft apply -f)")
        }
        return GroupTemplate(document: spec)
    }

    /// Every address of the host: others reach the first; loopback and link-local ones come last.
    static func defaultAddresses() -> [String] {
        let all = EnvoyBootstrapCommand.hostAddresses()
        func rank(_ a: String) -> Int {
            if a == "127.0.0.1" || a == "::1" { return 3 }
            if a.hasPrefix("fe80") { return 4 }
            return a.contains(":") ? 1 : 0
        }
        let sorted = all.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
        return sorted.filter { !$0.hasPrefix("fe80") }.isEmpty ? ["127.0.0.1"] : sorted.filter { !$0.hasPrefix("fe80") }
    }

    func run() async throws {
        let client = try server.client()
        guard let r = try? await client.call("GET", "/api/v1/status"), r.status == 200 else {
            throw CLIError("no control plane answers at \(server.server); start one with `weft control` or `weft up`, or pass --server")
        }
        let plan = try plan(group: try await fetchGroup(client))
        let printer = LogPrinter(folder: nil)
        printer.widen(to: plan.name.count + 6)
        let settings = WorkloadRunner.Settings(
            weftBinary: MeshSession.weftBinary, controlPlane: try parseAddress(controlPlane, flag: "--control-plane"), api: client,
            ttl: ttl, backoff: Backoff(initial: 0.5, max: 30), proxyLogs: proxyLogs,
            pathPrefix: URL(fileURLWithPath: MeshSession.weftBinary).deletingLastPathComponent().path, restartAfterSuccess: false)
        let runner = WorkloadRunner(plan: plan, settings: settings, printer: printer)
        let work = Task { await runner.run() }
        let watch = Task {
            while !Task.isCancelled && !runner.isReady { try? await Task.sleep(for: .milliseconds(50)) }
            if runner.isReady {
                printer.say("\(plan.name) joined the mesh: \(plan.services.map { "\($0.name):\($0.port)" }.joined(separator: ", ")) at "
                    + "\(plan.addresses.joined(separator: ", ")); app \(plan.app); HTTP_PROXY=http://\(plan.outbound); admin http://\(plan.admin)")
            }
        }
        let signals = Task { await SignalWaiter.wait() }
        await withTaskGroup(of: Void.self) { g in
            g.addTask { await work.value; signals.cancel() }
            g.addTask { if await signals.value != 0 { await runner.stop() } }
        }
        watch.cancel()
        printer.say("\(plan.name) left the mesh")
    }
}
