import Foundation
import WeftConfig
import WeftCore
import WeftModel

extension MeshRegistry {
    /// Registers (or replaces) a workload. Its TTL starts now.
    public func register(_ workload: RegisteredWorkload) throws(DiagnosticError) {
        var w = workload
        let problems = Self.check(w)
        if !problems.isEmpty { throw DiagnosticError(problems) }
        if let ttl = w.ttlSeconds { w.expiresAt = clock.now() + ttl } else { w.expiresAt = nil }
        let registered = w
        try change { s in
            var next = s
            next.workloads["\(registered.namespace)/\(registered.name)"] = registered
            next.remember(registered)
            return .changed(next, ())
        }
    }

    /// Declares services before any workload of theirs registers (as `weft up` does for its mesh file), so config
    /// that routes to them is accepted from the start; they stay declared like services of registrations.
    public func declare(namespace: String, services: [RegisteredService]) {
        record { s in
            var next = s
            next.remember(RegisteredWorkload(name: "", namespace: namespace, addresses: [], services: services))
            return .changed(next, ())
        }
    }

    /// Renews a workload's TTL. False when no such workload is registered.
    public func heartbeat(namespace: String, name: String) -> Bool {
        let now = clock.now()
        // A new deadline is neither stored nor published: a restart gives every workload a fresh TTL anyway.
        return record { s in
            guard var w = s.workloads["\(namespace)/\(name)"] else { return .unchanged(false) }
            if let ttl = w.ttlSeconds { w.expiresAt = now + ttl }
            var next = s
            next.workloads["\(namespace)/\(name)"] = w
            return .quiet(next, true)
        }
    }

    public func deregister(namespace: String, name: String) -> Bool {
        record { s in
            var next = s
            guard next.workloads.removeValue(forKey: "\(namespace)/\(name)") != nil else { return .unchanged(false) }
            return .changed(next, true)
        }
    }

    public func workloads() -> [RegisteredWorkload] {
        state.withLock { s in s.workloads.keys.sorted().map { s.workloads[$0]! } }
    }

    /// Removes workloads whose TTL passed; returns their names.
    @discardableResult
    public func expire() -> [String] {
        let now = clock.now()
        return record { s in
            let gone = s.workloads.filter { ($0.value.expiresAt ?? .infinity) <= now }.keys.sorted()
            guard !gone.isEmpty else { return .unchanged([]) }
            var next = s
            for k in gone { next.workloads[k] = nil }
            return .changed(next, gone)
        }
    }

    static func check(_ w: RegisteredWorkload) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let res = "workload \(w.namespace)/\(w.name)"
        func error(_ path: String, _ msg: String) { out.append(Diagnostic(resource: res, path: path, message: msg)) }
        if w.name.isEmpty {
            error("name", "missing required field")
        } else if !KubernetesName.isSubdomain(w.name) {
            error("name", KubernetesName.subdomainProblem(w.name))
        }
        if !KubernetesName.isLabel(w.namespace) { error("namespace", KubernetesName.labelProblem(w.namespace)) }
        if w.addresses.isEmpty { error("addresses", "at least one address is required") }
        for (i, a) in w.addresses.enumerated() where !IPAddressText.isIP(a) { error("addresses[\(i)]", "'\(a)' is not an IP address") }
        for (name, p) in w.ports.sorted(by: { $0.key < $1.key }) {
            if let problem = PortNumber.problem(p) { error("ports.\(name)", "port " + problem) }
        }
        for (i, s) in w.services.enumerated() {
            if s.name.isEmpty {
                error("services[\(i)].name", "missing required field")
            } else if !KubernetesName.isSubdomain(s.name) {
                error("services[\(i)].name", KubernetesName.subdomainProblem(s.name))
            }
            if let problem = PortNumber.problem(s.port) { error("services[\(i)].port", "port " + problem) }
            if let t = s.targetPort, let problem = PortNumber.problem(t) { error("services[\(i)].targetPort", "port " + problem) }
            if let p = s.protocol, PortProtocol(rawValue: p.uppercased()) == nil { error("services[\(i)].protocol", "'\(p)' is not a protocol") }
        }
        if let ttl = w.ttlSeconds, ttl <= 0 { error("ttlSeconds", "must be greater than 0") }
        if let l = w.locality, !LocalityText.isValid(l, wildcards: false) {
            error("locality", "'\(l)' must be region, region/zone or region/zone/subzone")
        }
        if let wt = w.weight, wt < 0 { error("weight", "must not be negative, got \(wt)") }
        return out
    }
}
