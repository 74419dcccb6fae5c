import Foundation
import Logging
import Synchronization
import NIOPosix
import WeftControl
import WeftCore
import WeftHTTPClient
import WeftMesh
import WeftModel

/// `weft up` and `weft demo`: an embedded control plane and one supervised workload (app + sidecar) per
/// replica, until SIGINT/SIGTERM; then everything stops in order (apps, registrations, sidecars, control plane).
struct MeshSession {
    var spec: MeshSpec
    /// The config folder, resolved.
    var configFolder: URL?
    var stateDir: URL
    var xds: HostPort
    var api: HostPort
    /// Called once every workload is ready; returning true stops the mesh (`--once`).
    var whenReady: @Sendable (MeshSession, [WorkloadPlan]) async -> Bool = { _, _ in false }

    func run() async throws {
        let printer = LogPrinter(folder: stateDir.appendingPathComponent("logs").path)
        let data = stateDir.appendingPathComponent("data")
        try? FileManager.default.removeItem(at: data)
        var plans = AddressPlan.workloads(spec, ipv6: spec.options.ipv6)
        var aliases: [String] = []
        if spec.options.ipv6 {
            aliases = plans.map(\.address)
            if !(await LoopbackAliases.add(aliases)) {
                printer.say("cannot add IPv6 addresses to lo (needs root and iproute2): every workload shares ::1 with its own ports")
                aliases = []
                plans = AddressPlan.workloads(spec, ipv6: true, sharedIPv6: true)
            }
        }
        printer.widen(to: (plans.map(\.name.count).max() ?? 0) + 6)
        if let busy = await Self.taken(plans) {
            await LoopbackAliases.remove(aliases)
            throw CLIError("\(busy) is already in use: is another `weft up` running? Stop it first (or use --ipv6 for a second mesh)")
        }
        var declared: [RegisteredService] = []
        for s in spec.services where !declared.contains(where: { $0.name == s.name }) {
            declared.append(RegisteredService(name: s.name, port: s.port, protocol: s.protocol.uppercased()))
        }
        let controlEnded = Latch()
        let control = Task { [declared] in
            defer { controlEnded.set("it ended") }
            do {
                try await ControlPlane(config: ControlPlaneConfig(configDirectory: configFolder, dataDirectory: data, xds: xds, api: api,
                                                              declared: [(spec.namespace, declared)]),
                                   logger: PrinterLogHandler.logger(printer), clock: SystemWallClock(),
                                   group: MultiThreadedEventLoopGroup.singleton).run()
            } catch {
                controlEnded.set("\(error)")
                throw error
            }
        }
        let client = APIClient(server: api)
        do {
            try await waitForControlPlane(client, control)
        } catch {
            await LoopbackAliases.remove(aliases)
            throw error
        }
        printer.say("control plane up: xDS \(xds), API http://\(api)\(configFolder.map { ", config \($0.path)" } ?? "")")
        let settings = WorkloadRunner.Settings(
            weftBinary: Self.weftBinary, controlPlane: xds, api: client, ttl: spec.options.ttlSeconds,
            backoff: Backoff(initial: spec.options.restartInitial, max: spec.options.restartMax),
            proxyLogs: spec.options.proxyLogs, pathPrefix: URL(fileURLWithPath: Self.weftBinary).deletingLastPathComponent().path)
        let stateFile = StateFile(url: stateDir.appendingPathComponent("workloads.json"), controlPlane: (xds, api))
        let runners = plans.map { plan in WorkloadRunner(plan: plan, settings: settings, printer: printer) { stateFile.changed() } }
        stateFile.attach(runners)
        let session = self
        let work = Task {
            await withTaskGroup(of: Void.self) { g in for r in runners { g.addTask { await r.run() } } }
        }
        let stop = Task {
            let deadline = ContinuousClock.now + .seconds(60)
            while !runners.allSatisfy(\.isReady) && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
            let unrouted = await MeshProbe.waitRouted(plans)
            if !unrouted.isEmpty { printer.say("not routed yet: \(unrouted.prefix(3).joined(separator: "; "))") }
            FileHandle.standardOutput.write(Data(MeshTable.render(runners, xds: xds, api: api, logs: printer.folder ?? "", state: stateFile.url.path).utf8))
            if await session.whenReady(session, plans) { return "done" }
            return await Self.waitForStop { controlEnded.value.map { "the control plane stopped: \($0)" } }
        }
        let reason = await stop.value
        printer.say("stopping (\(reason)): apps, then registrations and sidecars, then the control plane")
        await withTaskGroup(of: Void.self) { g in for r in runners { g.addTask { await r.stop() } } }
        await work.value
        control.cancel()
        _ = try? await control.value
        await LoopbackAliases.remove(aliases)
        printer.say("stopped; logs in \(printer.folder ?? "-")")
    }

    /// The first sidecar admin address something already answers on, if any.
    static func taken(_ plans: [WorkloadPlan]) async -> HostPort? {
        for p in plans where await HTTPClient.canConnect(p.admin) { return p.admin }
        return nil
    }

    /// A signal, or `failure()` returning a reason (checked every 100 ms): whichever comes first.
    static func waitForStop(failure: @escaping @Sendable () -> String?) async -> String {
        await withTaskGroup(of: String?.self) { g in
            g.addTask { "signal \(await SignalWaiter.wait())" }
            g.addTask {
                while !Task.isCancelled {
                    if let why = failure() { return why }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return nil
            }
            let first = await g.next() ?? nil
            g.cancelAll()
            return first ?? "stopped"
        }
    }

    func waitForControlPlane(_ client: APIClient, _ control: Task<Void, Error>) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let r = try? await client.call("GET", "/api/v1/status"), r.status == 200 { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        control.cancel()
        if case let .failure(e) = await control.result { throw CLIError("the control plane did not start: \(e)") }
        throw CLIError("the control plane did not answer at \(api) within 20 s")
    }

    /// This program's own path, for the sidecars (`weft proxy`).
    static var weftBinary: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// The first reason given, kept.
final class Latch: Sendable {
    let reason = Mutex<String?>(nil)
    var value: String? { reason.withLock { $0 } }
    func set(_ why: String) { reason.withLock { $0 = $0 ?? why } }
}
