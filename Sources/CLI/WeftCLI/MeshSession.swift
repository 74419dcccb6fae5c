import Foundation
import Synchronization
import WeftCore
import WeftHTTPClient
import WeftMesh
import WeftModel

/// `weft up` and `weft demo`: an embedded control plane and one supervised workload (app + sidecar) per
/// replica, until SIGINT/SIGTERM; then everything stops in order (apps, registrations, sidecars, control plane).
struct MeshSession: Sendable {
    var spec: MeshSpec
    /// The config folder, resolved.
    var configFolder: URL?
    var stateDir: URL
    var xds: HostPort
    var api: HostPort
    /// Where a Prometheus beside the mesh listens (`--prometheus`); nil: none.
    var prometheus: HostPort?
    /// Called once every workload is ready; returning true stops the mesh (`--once`).
    var whenReady: @Sendable (MeshSession, [WorkloadPlan]) async -> Bool = { _, _ in false }

    func run() async throws {
        let stopReason = Latch()
        let signals = Task { let s = await SignalWaiter.wait(); if s != 0 { stopReason.set("signal \(s)") } }
        defer { signals.cancel() }
        let printer = LogPrinter(folder: stateDir.appendingPathComponent("logs").path)
        let (plans, aliases) = await addresses(printer)
        do {
            try await serve(plans, printer: printer, stopReason: stopReason)
        } catch {
            await LoopbackAliases.remove(aliases)
            throw error
        }
        await LoopbackAliases.remove(aliases)
        printer.say("stopped; logs in \(printer.folder ?? "-")")
    }

    func serve(_ plans: [WorkloadPlan], printer: LogPrinter, stopReason: Latch) async throws {
        printer.widen(to: (plans.map(\.name.count).max() ?? 0) + 6)
        if let busy = await Self.taken(plans) {
            throw CLIError("\(busy) is already in use: is another `weft up` running? Stop it first (or use --ipv6 for a second mesh)")
        }
        let control = try await EmbeddedControlPlane.start(self, printer: printer, stopReason: stopReason)
        let client = APIClient(server: api)
        let prom = try prometheus.map { try PrometheusRunner.start(listen: $0, api: client, stateDir: stateDir, printer: printer) }
        let promTask = prom.map { p in Task { await p.process.run() } }
        if let prom {
            printer.say("prometheus: \(prom.url) (scrapes every proxy through http://\(api)/api/v1/prometheus/targets; its log is prometheus.log)")
        }
        let settings = WorkloadRunner.Settings(
            weftBinary: Self.weftBinary, controlPlane: xds, api: client, ttl: spec.options.ttlSeconds,
            backoff: Backoff(initial: spec.options.restartInitial, max: spec.options.restartMax),
            proxyLogs: spec.options.proxyLogs, pathPrefix: URL(fileURLWithPath: Self.weftBinary).deletingLastPathComponent().path)
        let stateFile = StateFile(url: stateDir.appendingPathComponent("workloads.json"), controlPlane: (xds, api))
        let runners = plans.map { plan in WorkloadRunner(plan: plan, settings: settings, printer: printer) { stateFile.changed() } }
        stateFile.attach(runners)
        let work = Task {
            await withTaskGroup(of: Void.self) { g in for r in runners { g.addTask { await r.run() } } }
        }
        if await announce(runners, plans, printer: printer, state: stateFile.url.path, stopReason: stopReason) {
            stopReason.set("done")
        }
        while stopReason.value == nil { try? await Task.sleep(for: .milliseconds(100)) }
        printer.say("stopping (\(stopReason.value ?? "")): apps, then registrations and sidecars, then the control plane")
        await withTaskGroup(of: Void.self) { g in for r in runners { g.addTask { await r.stop() } } }
        await work.value
        if let prom {
            await prom.process.stop()
            await promTask?.value
        }
        await control.stop()
    }

    /// Waits (up to 60 s, or a stop) until every workload is registered and routed to, prints the table, and runs
    /// `whenReady`; true when that asks to stop.
    func announce(_ runners: [WorkloadRunner], _ plans: [WorkloadPlan], printer: LogPrinter, state: String, stopReason: Latch) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while !runners.allSatisfy(\.isReady) && ContinuousClock.now < deadline && stopReason.value == nil {
            try? await Task.sleep(for: .milliseconds(100))
        }
        guard stopReason.value == nil else { return false }
        let unrouted = await MeshProbe.waitRouted(plans)
        if !unrouted.isEmpty { printer.say("not routed yet: \(unrouted.prefix(3).joined(separator: "; "))") }
        guard stopReason.value == nil else { return false }
        let table = MeshTable.render(runners, xds: xds, api: api, logs: printer.folder ?? "", state: state)
        FileHandle.standardOutput.write(Data(table.utf8))
        return await whenReady(self, plans)
    }

    /// The workloads' plans; with IPv6, their addresses added to `lo` (or ::1 shared when that is not possible).
    func addresses(_ printer: LogPrinter) async -> ([WorkloadPlan], [String]) {
        let plans = AddressPlan.workloads(spec, ipv6: spec.options.ipv6)
        guard spec.options.ipv6 else { return (plans, []) }
        let aliases = plans.map(\.address)
        // WEFT_IPV6_SHARED=1 forces the fallback (tests use it to cover hosts where `ip` is not allowed).
        if ProcessInfo.processInfo.environment["WEFT_IPV6_SHARED"] != "1", await LoopbackAliases.add(aliases) { return (plans, aliases) }
        printer.say("cannot add IPv6 addresses to lo (needs root and iproute2): every workload shares ::1 with its own ports")
        return (AddressPlan.workloads(spec, ipv6: true, sharedIPv6: true), [])
    }

    /// The first sidecar admin address something already answers on, if any.
    static func taken(_ plans: [WorkloadPlan]) async -> HostPort? {
        for p in plans where await HTTPClient.canConnect(p.admin) { return p.admin }
        return nil
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
