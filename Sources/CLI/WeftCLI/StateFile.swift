import Foundation
import Synchronization
import WeftCore

/// `workloads.json` in the state folder: every workload with its addresses and current pids, rewritten on
/// each start and stop, so scripts and tests can find the processes.
final class StateFile: Sendable {
    let url: URL
    let controlPlane: (xds: HostPort, api: HostPort)
    let runners = Mutex<[WorkloadRunner]>([])

    init(url: URL, controlPlane: (HostPort, HostPort)) {
        self.url = url
        self.controlPlane = controlPlane
    }

    func attach(_ r: [WorkloadRunner]) {
        runners.withLock { $0 = r }
        changed()
    }

    func changed() {
        runners.withLock { write($0) }
    }

    func write(_ all: [WorkloadRunner]) {
        let items: [JSONValue] = all.map { r in
            let p = r.plan
            return .object([
                ("name", .string(p.name)), ("address", .string(p.address)), ("app", .string(p.app.description)),
                ("appPid", r.app.pid.map { .number(Double($0)) } ?? .null), ("appStarts", .number(Double(r.app.starts))),
                ("sidecarPid", r.sidecar.pid.map { .number(Double($0)) } ?? .null),
                ("outbound", .string(p.outbound.description)), ("admin", .string(p.admin.description)),
                ("labels", .object(p.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                ("services", .array(p.services.map { s in
                    .object([("name", .string(s.name)), ("port", .number(Double(s.port))),
                             ("inbound", .string(HostPort(host: p.address, port: s.inboundPort).description))])
                })),
                ("registered", .bool(r.registrar.isRegistered)),
            ])
        }
        let doc = JSONValue.object([("xds", .string(controlPlane.xds.description)), ("api", .string(controlPlane.api.description)),
                                    ("workloads", .array(items))])
        let tmp = url.appendingPathExtension("tmp")
        try? Data(doc.serialized(pretty: true).utf8).write(to: tmp)
        _ = rename(tmp.path, url.path)
    }
}
