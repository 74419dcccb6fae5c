import WeftCore

/// Checks a whole set of resources together: names unique, references (hosts, subsets) defined, no two
/// routes for one host. `extraHosts` are the hosts that registered workloads declare; `telemetryProviders`, the
/// mesh's providers by kind (nil: not known here, as in `weft validate`), which Telemetry resources must name.
public enum ConfigSetValidator {
    public static func validate(_ resources: [Resource], extraHosts: Set<String> = [],
                                telemetryProviders: [String: MeshTelemetryConfig.ProviderKind]? = nil) -> [Diagnostic] {
        var out: [Diagnostic] = []
        func error(_ r: Resource, _ path: String, _ msg: String) {
            out.append(Diagnostic(file: r.source, resource: r.key.description, path: path, message: msg))
        }
        var seen: [ResourceKey: Resource] = [:]
        for r in resources {
            if let first = seen[r.key] {
                error(r, "metadata.name", "duplicate name: \(r.key) is also defined in \(first.source)")
            } else {
                seen[r.key] = r
            }
        }
        var declared = extraHosts
        var subsets: [String: Set<String>] = [:]
        var drOwner: [String: Resource] = [:]
        for r in resources {
            if case let .serviceEntry(se) = r.spec { declared.formUnion(se.hosts) }
        }
        for r in resources {
            guard case let .destinationRule(dr) = r.spec else { continue }
            let host = HostName.resolve(dr.host, namespace: r.key.namespace, declared: declared)
                ?? HostName.qualify(dr.host, namespace: r.key.namespace)
            if let other = drOwner[host], other.key != r.key {
                error(r, "spec.host", "host \(host) already has DestinationRule \(other.key.namespace)/\(other.key.name)")
            }
            drOwner[host] = r
            subsets[host, default: []].formUnion(dr.subsets.map(\.name))
        }
        var vsOwner: [String: Resource] = [:]
        for r in resources {
            guard case let .virtualService(vs) = r.spec, vs.appliesToMesh else { continue }
            let ns = r.key.namespace
            for (i, h) in vs.hosts.enumerated() {
                let host = HostName.resolve(h, namespace: ns, declared: declared) ?? HostName.qualify(h, namespace: ns)
                if let other = vsOwner[host], other.key != r.key {
                    error(r, "spec.hosts[\(i)]", "host \(host) is already routed by VirtualService \(other.key.namespace)/\(other.key.name)")
                }
                vsOwner[host] = r
            }
            func check(_ d: Destination, _ path: String) {
                guard let host = HostName.resolve(d.host, namespace: ns, declared: declared) else {
                    error(r, "\(path).host", "host '\(d.host)' is not declared by any ServiceEntry or registered workload")
                    return
                }
                if let s = d.subset, !(subsets[host]?.contains(s) ?? false) {
                    error(r, "\(path).subset", "subset '\(s)' is not defined by any DestinationRule for host \(host)")
                }
            }
            for (i, route) in vs.http.enumerated() {
                for (j, d) in route.route.enumerated() { check(d.destination, "spec.http[\(i)].route[\(j)].destination") }
                if let m = route.mirror { check(m, "spec.http[\(i)].mirror") }
                for (j, m) in route.mirrors.enumerated() { check(m.destination, "spec.http[\(i)].mirrors[\(j)].destination") }
            }
            for (i, route) in vs.tcp.enumerated() {
                for (j, d) in route.route.enumerated() { check(d.destination, "spec.tcp[\(i)].route[\(j)].destination") }
            }
        }
        let delegates = VirtualServiceDelegation.delegates(in: resources)
        for r in resources {
            guard case let .rateLimit(rl) = r.spec, let h = rl.host else { continue }
            guard let host = HostName.resolve(h, namespace: r.key.namespace, declared: declared) else {
                error(r, "spec.host", "host '\(h)' is not declared by any ServiceEntry or registered workload")
                continue
            }
            let names: Set<String>
            if let owner = vsOwner[host], case let .virtualService(vs) = owner.spec {
                // Delegated routes are named ROOT-DELEGATE once merged, as the proxies see them.
                let merged = VirtualServiceDelegation.resolve(root: vs, namespace: owner.key.namespace, delegates: delegates)
                names = Set(merged.http.compactMap(\.name))
            } else {
                names = []
            }
            for (i, route) in rl.routes.enumerated() where !names.contains(route) {
                error(r, "spec.routes[\(i)]", "no http route named '\(route)' in the VirtualService for \(host)")
            }
        }
        if let providers = telemetryProviders {
            for r in resources {
                guard case let .telemetry(t) = r.spec else { continue }
                let sections: [(String, MeshTelemetryConfig.ProviderKind, [[String]])] = [
                    ("accessLogging", .accessLog, (t.accessLogging ?? []).map(\.providers)),
                    ("tracing", .tracing, (t.tracing ?? []).map(\.providers)),
                    ("metrics", .metrics, (t.metrics ?? []).map(\.providers)),
                ]
                for (section, kind, entries) in sections {
                    for (i, names) in entries.enumerated() {
                        for (j, n) in names.enumerated() where providers[n] != kind {
                            let known = providers.filter { $0.value == kind }.keys.sorted().joined(separator: ", ")
                            let why = providers[n] == nil ? "no provider is named '\(n)'" : "'\(n)' is not a \(kind.rawValue) provider"
                            error(r, "spec.\(section)[\(i)].providers[\(j)].name",
                                  "\(why) (\(kind.rawValue) providers: \(known.isEmpty ? "none" : known); see weft control --mesh-config)")
                        }
                    }
                }
            }
        }
        return out
    }

    /// Advice on a set that is accepted: root routes whose delegate is missing or not exported to the root's
    /// namespace (Istio leaves such a route out, and so does Weft).
    public static func warnings(_ resources: [Resource]) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let delegates = VirtualServiceDelegation.delegates(in: resources)
        for r in resources {
            guard case let .virtualService(vs) = r.spec, !vs.isDelegate else { continue }
            for (i, route) in vs.http.enumerated() {
                guard let d = route.delegate, !d.name.isEmpty else { continue }
                let key = ResourceKey(kind: .VirtualService, namespace: d.namespace ?? r.key.namespace, name: d.name)
                let path = "spec.http[\(i)].delegate"
                if let target = delegates[key] {
                    if !VirtualServiceDelegation.visible(target, in: key.namespace, to: r.key.namespace) {
                        out.append(Diagnostic(file: r.source, resource: r.key.description, path: path,
                                              message: "delegate \(key.namespace)/\(key.name) is not exported to namespace \(r.key.namespace); the route is left out"))
                    }
                } else {
                    out.append(Diagnostic(file: r.source, resource: r.key.description, path: path,
                                          message: "no delegate VirtualService \(key.namespace)/\(key.name) (one without hosts); the route is left out"))
                }
            }
        }
        return out
    }
}
