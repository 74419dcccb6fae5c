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

    /// Istio's auto-registration: registers a workload of WorkloadGroup `group` (in the workload's namespace),
    /// built from the group's template. Refused when no such group is configured.
    @discardableResult
    public func register(_ workload: RegisteredWorkload, group: String) throws(DiagnosticError) -> RegisteredWorkload {
        let key = ResourceKey(kind: .WorkloadGroup, namespace: workload.namespace, name: group)
        guard let r = resources().first(where: { $0.key == key }), case let .workloadGroup(wg) = r.spec else {
            throw DiagnosticError([Diagnostic(resource: "workload \(workload.namespace)/\(workload.name)", path: "group",
                                              message: "no WorkloadGroup \(workload.namespace)/\(group)")])
        }
        let entry = Self.entry(workload, group: group, wg)
        try register(entry)
        return entry
    }

    /// The workload a group's registrant becomes, as Istio's workloadEntryFromGroup: the template's ports, service
    /// account, network, locality and weight unless the registrant gives its own; labels merged (see
    /// `WorkloadGroup.labels(registrant:)`); named `GROUP-ADDRESS[-NETWORK]` unless it has a name.
    static func entry(_ w: RegisteredWorkload, group: String, _ wg: WorkloadGroup) -> RegisteredWorkload {
        var out = w
        out.group = group
        out.labels = wg.labels(registrant: w.labels)
        out.ports = wg.template.ports.merging(w.ports) { _, own in own }
        out.serviceAccount = w.serviceAccount ?? wg.template.serviceAccount
        out.network = w.network ?? wg.template.network
        out.locality = w.locality ?? wg.template.locality
        out.weight = w.weight ?? wg.template.weight
        if out.name.isEmpty, let address = w.addresses.first {
            let parts = [group, address.replacingOccurrences(of: ":", with: "-")] + (out.network.map { [$0] } ?? [])
            out.name = String(parts.joined(separator: "-").suffix(253))
        }
        return out
    }

    /// The WorkloadEntries auto-registration made, as Istio shows them (annotated with their group), for listing.
    public func autoRegisteredEntries() -> [Resource] {
        workloads().compactMap { w -> Resource? in
            guard let group = w.group, let address = w.addresses.first else { return nil }
            let we = WorkloadEntry(address: address, ports: w.ports, labels: w.labels, network: w.network, locality: w.locality,
                                   weight: w.weight, serviceAccount: w.serviceAccount)
            func map(_ m: [String: String]) -> JSONValue { .object(m.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }) }
            var spec: [(String, JSONValue)] = [("address", .string(address)), ("labels", map(w.labels))]
            if !w.ports.isEmpty { spec.append(("ports", .object(w.ports.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) }))) }
            for (k, v) in [("serviceAccount", w.serviceAccount), ("network", w.network), ("locality", w.locality)] {
                if let v { spec.append((k, .string(v))) }
            }
            if let wt = w.weight { spec.append(("weight", .number(Double(wt)))) }
            let doc = JSONValue.object([
                ("apiVersion", .string("networking.istio.io/v1")), ("kind", .string("WorkloadEntry")),
                ("metadata", .object([("name", .string(w.name)), ("namespace", .string(w.namespace)),
                                      ("annotations", map(["istio.io/autoRegistrationGroup": group]))])),
                ("spec", .object(spec)),
            ])
            return Resource(key: ResourceKey(kind: .WorkloadEntry, namespace: w.namespace, name: w.name), spec: .workloadEntry(we),
                            document: doc, source: "auto-registration")
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
