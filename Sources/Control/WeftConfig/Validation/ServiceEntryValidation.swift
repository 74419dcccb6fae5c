import WeftCore

extension ResourceValidator {
    static func validateServiceEntry(_ se: ServiceEntry, _ c: inout Checker) {
        if se.hosts.isEmpty { c.error("spec.hosts", "at least one host is required") }
        for (i, h) in se.hosts.enumerated() {
            c.host(h, "spec.hosts[\(i)]")
            if h.hasPrefix("*") && (se.resolution == .DNS || se.resolution == .DNS_ROUND_ROBIN) {
                c.error("spec.hosts[\(i)]", "wildcard hosts cannot use DNS resolution")
            }
        }
        if se.ports.isEmpty { c.error("spec.ports", "at least one port is required") }
        var numbers: Set<Int> = [], names: Set<String> = []
        for (i, p) in se.ports.enumerated() {
            let path = "spec.ports[\(i)]"
            c.port(p.number, "\(path).number")
            c.port(p.targetPort, "\(path).targetPort")
            if !numbers.insert(p.number).inserted { c.error("\(path).number", "duplicate port \(p.number)") }
            if p.name.isEmpty { c.error("\(path).name", "missing required field") }
            else if !names.insert(p.name).inserted { c.error("\(path).name", "duplicate port name '\(p.name)'") }
        }
        if se.workloadSelector != nil && !se.endpoints.isEmpty {
            c.error("spec.workloadSelector", "set only one of workloadSelector and endpoints")
        }
        if let sel = se.workloadSelector {
            if sel.isEmpty { c.error("spec.workloadSelector.labels", "at least one label is required") }
            c.labels(sel, "spec.workloadSelector.labels")
        }
        switch se.resolution {
        case .NONE:
            if !se.endpoints.isEmpty { c.error("spec.endpoints", "resolution NONE cannot have endpoints") }
        case .STATIC:
            if se.endpoints.isEmpty && se.workloadSelector == nil {
                c.error("spec.endpoints", "resolution STATIC needs endpoints or a workloadSelector")
            }
            for (i, e) in se.endpoints.enumerated() where !IPAddressText.isIP(e.address) && !e.address.hasPrefix("unix://") {
                c.error("spec.endpoints[\(i)].address", "'\(e.address)' must be an IP address when resolution is STATIC")
            }
        case .DNS, .DNS_ROUND_ROBIN:
            break
        }
        for (i, e) in se.endpoints.enumerated() {
            validateWorkloadEntry(e, path: "spec.endpoints[\(i)]", &c)
            for name in e.ports.keys.sorted() where !names.contains(name) {
                c.error("spec.endpoints[\(i)].ports.\(name)", "no service port is named '\(name)'")
            }
        }
        for (i, a) in se.addresses.enumerated() where !IPAddressText.isIP(a.split(separator: "/").first.map(String.init) ?? a) {
            c.error("spec.addresses[\(i)]", "'\(a)' is not an IP address or CIDR")
        }
    }

    static func validateWorkloadEntry(_ we: WorkloadEntry, path p: String, _ c: inout Checker) {
        if we.address.isEmpty && p == "spec" { c.error("\(p).address", "missing required field") }
        if !we.address.isEmpty && !IPAddressText.isIP(we.address) && !we.address.hasPrefix("unix://") {
            c.host(we.address, "\(p).address", wildcard: false)
        }
        if we.address.hasPrefix("unix://") {
            // Istio's ValidateUnixAddress: an absolute path to a file, or an abstract socket (@name); no ports.
            let path = we.address.dropFirst("unix://".count)
            if path.isEmpty {
                c.error("\(p).address", "unix address must not be empty")
            } else if !path.hasPrefix("@") && (!path.hasPrefix("/") || path.hasSuffix("/")) {
                c.error("\(p).address", "\(path) is not an absolute path to a file")
            }
            if !we.ports.isEmpty { c.error("\(p).ports", "unix endpoint \(we.address) must not include ports") }
        }
        for (name, port) in we.ports.sorted(by: { $0.key < $1.key }) {
            if !KubernetesName.isLabel(name) { c.error("\(p).ports.\(name)", "invalid port name: \(name) (a DNS-1123 label)") }
            c.port(port, "\(p).ports.\(name)")
        }
        c.labels(we.labels, "\(p).labels")
        if let w = we.weight, w < 0 || w > 4_294_967_295 { c.error("\(p).weight", "must be between 0 and 4294967295, got \(w)") }
        if let l = we.locality {
            if !LocalityText.isValid(l, wildcards: false) {
                c.error("\(p).locality", "'\(l)' must be region, region/zone or region/zone/subzone")
            }
        }
    }
}
