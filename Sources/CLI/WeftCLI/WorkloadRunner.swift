import Foundation
import WeftCore
import WeftHTTPClient
import WeftMesh

/// Runs one workload: its `weft proxy` sidecar, then its app (registered while it runs), both supervised.
/// `stop()` ends them in order: the app, its registration, then the sidecar.
final class WorkloadRunner: Sendable {
    struct Settings: Sendable {
        var weftBinary: String
        var controlPlane: HostPort
        var api: APIClient
        var ttl: Double?
        var backoff: Backoff
        var proxyLogs: Bool
        /// Prepended to the app's PATH (the folder of the weft binary, where weft-sample lives).
        var pathPrefix: String
        var restartAfterSuccess = true
    }

    let plan: WorkloadPlan
    let sidecar: SupervisedProcess
    let app: SupervisedProcess
    let registrar: Registrar
    let printer: LogPrinter
    let onChange: @Sendable () -> Void

    init(plan: WorkloadPlan, settings s: Settings, printer: LogPrinter, onChange: @escaping @Sendable () -> Void = {}) {
        self.plan = plan
        self.printer = printer
        self.onChange = onChange
        var env = ProcessInfo.processInfo.environment
        env["WEFT_PARENT_PID"] = String(getpid())
        let api = s.api
        sidecar = SupervisedProcess(name: "\(plan.name)~proxy", launch: Launch(argv: [s.weftBinary] + plan.sidecarArguments(controlPlane: s.controlPlane),
                                                                               environment: env),
                                    printer: printer, stream: s.proxyLogs, backoff: s.backoff,
                                    prepare: { await Self.joinEnvironment(api, plan, printer) })
        env["WEFT_PARENT_PID"] = nil
        env.merge(plan.appEnvironment()) { _, new in new }
        env["PATH"] = s.pathPrefix + ":" + (env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        app = SupervisedProcess(name: plan.name, launch: Launch(argv: plan.command.argv, environment: env), printer: printer,
                                backoff: s.backoff, restartAfterSuccess: s.restartAfterSuccess)
        registrar = Registrar(client: s.api, plan: plan, ttl: s.ttl, printer: printer)
    }

    /// A fresh join token for the sidecar's identity at each (re)start, in `WEFT_JOIN_TOKEN` (not on its command
    /// line); none from a control plane run with --insecure.
    static func joinEnvironment(_ api: APIClient, _ plan: WorkloadPlan, _ printer: LogPrinter) async -> [String: String] {
        do {
            let reply = try await api.createJoinToken(namespace: plan.namespace, serviceAccount: plan.serviceAccount, ttlSeconds: 3600)
            if reply.status == 200, let token = reply.json["token"]?.stringValue { return ["WEFT_JOIN_TOKEN": token] }
            // A caller holding only a join token for this identity (not the admin token) hands that on.
            if reply.status == 403, let mine = api.bearer, let hint = JoinTokenHint(token: mine), hint.namespace == plan.namespace,
               hint.serviceAccount == plan.serviceAccount {
                return ["WEFT_JOIN_TOKEN": mine]
            }
            if reply.status != 409 { printer.say("\(plan.name): no join token for the sidecar: \(APIClient.errorLines(reply).joined(separator: "; "))") }
        } catch {
            printer.say("\(plan.name): no join token for the sidecar: \(error)")
        }
        return [:]
    }

    var isReady: Bool { registrar.isRegistered && app.pid != nil }

    /// Runs until `stop()`, or until the app ends for good (`restartAfterSuccess` off and it exited 0).
    func run() async {
        let onChange = self.onChange
        async let proxy: Void = sidecar.run(started: { _ in onChange() })
        async let beats: Void = registrar.heartbeats()
        await waitReady()
        await app.run(started: { [self] _ in
            onChange()
            await waitForPort()
            await registrar.register()
            onChange()
        }, ended: { [self] status in
            await registrar.deregister()
            onChange()
        })
        await stop()
        _ = await (proxy, beats)
    }

    func stop() async {
        await app.stop()
        await registrar.close()
        await sidecar.stop(grace: .seconds(3))
    }

    /// The sidecar answers /ready once it holds its first config (up to 30 s).
    func waitReady() async {
        let url = "http://\(plan.admin)/ready"
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline && !app.isStopping {
            if let r = try? await HTTPClient.get(url, timeout: .seconds(1)), r.status == 200 { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        printer.say("\(plan.name): the sidecar is not ready after 30 s; starting the app anyway")
    }

    /// Waits until the app accepts connections (up to 20 s), so callers never meet an endpoint that refuses.
    func waitForPort() async {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline && app.pid != nil {
            if await HTTPClient.canConnect(plan.app) { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
