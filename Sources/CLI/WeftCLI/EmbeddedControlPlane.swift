import Foundation
import NIOPosix
import WeftControl
import WeftCore
import WeftMesh
import WeftModel

/// The control plane inside `weft up`: runs as a task, logs through the mesh's printer, and sets the stop
/// reason if it ends on its own (a failed bind, for example).
struct EmbeddedControlPlane {
    let task: Task<Void, Error>

    static func start(_ s: MeshSession, printer: LogPrinter, stopReason: Latch) async throws -> EmbeddedControlPlane {
        var declared: [RegisteredService] = []
        for svc in s.spec.services where !declared.contains(where: { $0.name == svc.name }) {
            declared.append(RegisteredService(name: svc.name, port: svc.port, protocol: svc.protocol.uppercased()))
        }
        var config = ControlPlaneConfig(configDirectory: s.configFolder, dataDirectory: s.stateDir.appendingPathComponent("data"),
                                        xds: s.xds, api: s.api, declared: [(s.spec.namespace, declared)])
        config.limits = s.spec.options.limits
        config.meshTelemetry = s.spec.options.meshTelemetry
        try? FileManager.default.removeItem(at: s.stateDir.appendingPathComponent("data"))
        let plane = ControlPlane(config: config, logger: PrinterLogHandler.logger(printer), clock: SystemWallClock(),
                                 group: MultiThreadedEventLoopGroup.singleton)
        let task = Task {
            do {
                try await plane.run()
                stopReason.set("the control plane stopped")
            } catch {
                stopReason.set("the control plane stopped: \(error)")
                throw error
            }
        }
        let client = APIClient(server: s.api)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let r = try? await client.call("GET", "/api/v1/status"), r.status == 200 {
                printer.say("control plane up: xDS \(s.xds), API http://\(s.api)\(s.configFolder.map { ", config \($0.path)" } ?? "")")
                return EmbeddedControlPlane(task: task)
            }
            if stopReason.value != nil { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        if case let .failure(e) = await task.result { throw CLIError("the control plane did not start: \(e)") }
        throw CLIError("the control plane did not answer at \(s.api) within 20 s")
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
