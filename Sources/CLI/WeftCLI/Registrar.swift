import Foundation
import Synchronization
import WeftCore
import WeftMesh

/// Keeps one workload registered with the control plane while its app runs: registers, heartbeats every third
/// of the TTL (registering again when the control plane forgot it), and deregisters.
final class Registrar: Sendable {
    let client: APIClient
    let plan: WorkloadPlan
    let ttl: Double?
    let printer: LogPrinter
    let state = Mutex((wanted: false, registered: false, closed: false))

    init(client: APIClient, plan: WorkloadPlan, ttl: Double?, printer: LogPrinter) {
        self.client = client
        self.plan = plan
        self.ttl = ttl
        self.printer = printer
    }

    var isRegistered: Bool { state.withLock { $0.registered } }
    var path: String { "/api/v1/workloads/\(plan.namespace)/\(plan.name)" }

    func register() async {
        state.withLock { $0.wanted = true }
        do {
            let reply = try await client.call("POST", "/api/v1/workloads", body: plan.registration(ttlSeconds: ttl).serialized(pretty: false))
            guard reply.status == 200 else {
                printer.say("\(plan.name): registration refused: \(APIClient.errorLines(reply).joined(separator: "; "))")
                return
            }
            state.withLock { $0.registered = true }
        } catch {
            printer.say("\(plan.name): cannot register: \(error)")
        }
    }

    func deregister() async {
        let was = state.withLock { s -> Bool in
            s.wanted = false
            defer { s.registered = false }
            return s.registered
        }
        if was { _ = try? await client.call("DELETE", path) }
    }

    /// Heartbeats until `close()`.
    func heartbeats() async {
        guard let ttl else { return }
        let every = Duration.milliseconds(max(100, Int(ttl * 1000 / 3)))
        var next = ContinuousClock.now + every
        while !state.withLock({ $0.closed }) {
            guard ContinuousClock.now >= next else {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            next = ContinuousClock.now + every
            guard state.withLock({ $0.wanted }) else { continue }
            if let reply = try? await client.call("PUT", path + "/heartbeat"), reply.status == 404 { await register() }
        }
    }

    func close() async {
        state.withLock { $0.closed = true }
        await deregister()
    }
}
