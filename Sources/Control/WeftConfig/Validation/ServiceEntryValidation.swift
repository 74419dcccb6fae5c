import WeftCore

extension ResourceValidator {
    /// Istio's ValidateServiceEntry: hosts, ports, and what each resolution allows.
    static func validateServiceEntry(_ se: ServiceEntry, _ c: inout Checker) {
        if se.hosts.isEmpty { c.error("spec.hosts", "at least one host is required") }
        for (i, h) in se.hosts.enumerated() {
            if h == "*" { c.error("spec.hosts[\(i)]", "'*' is not allowed in a ServiceEntry"); continue }
            c.host(h, "spec.hosts[\(i)]")
            if h.hasPrefix("*") && !h.hasPrefix("*.") && se.resolution != .DYNAMIC_DNS {
                c.warn("spec.hosts[\(i)]", "partial wildcard '\(h)': Istio allows it only with resolution DYNAMIC_DNS")
            }
        }
        var numbers: Set<Int> = [], names: Set<String> = []
        for (i, p) in se.ports.enumerated() {
            let path = "spec.ports[\(i)]"
            c.port(p.number, "\(path).number")
            c.port(p.targetPort, "\(path).targetPort")
            if !numbers.insert(p.number).inserted { c.error("\(path).number", "duplicate port \(p.number)") }
            if p.name.isEmpty { c.error("\(path).name", "missing required field") }
            else if !KubernetesName.isLabel(p.name) { c.error("\(path).name", "invalid port name: \(p.name) (a DNS-1123 label)") }
            else if !names.insert(p.name).inserted { c.error("\(path).name", "duplicate port name '\(p.name)'") }
        }
        if se.workloadSelector != nil && !se.endpoints.isEmpty {
            c.error("spec.workloadSelector", "set only one of workloadSelector and endpoints")
        }
        if let sel = se.workloadSelector {
            if sel.isEmpty { c.warn("spec.workloadSelector.labels", "no labels: selects every workload in the namespace") }
            c.labels(sel, "spec.workloadSelector.labels")
        }
        let cidr = se.addresses.contains { $0.contains("/") }
        if cidr && se.resolution != .NONE && se.resolution != .STATIC {
            c.error("spec.addresses", "CIDR addresses are allowed only with resolution NONE or STATIC")
        }
        switch se.resolution {
        case .NONE:
            if !se.endpoints.isEmpty { c.error("spec.endpoints", "resolution NONE cannot have endpoints") }
            if se.workloadSelector != nil { c.warn("spec.workloadSelector", "not used with resolution NONE") }
        case .STATIC:
            for (i, e) in se.endpoints.enumerated() where !IPAddressText.isIP(e.address) && !e.address.hasPrefix("unix://") && e.network == nil {
                c.error("spec.endpoints[\(i)].address", "'\(e.address)' must be an IP address when resolution is STATIC")
            }
        case .DNS, .DNS_ROUND_ROBIN:
            if se.endpoints.isEmpty, let (i, h) = se.hosts.enumerated().first(where: { $0.element.hasPrefix("*") }) {
                c.error("spec.hosts[\(i)]", "hosts must be FQDN if no endpoints are provided for resolution mode \(se.resolution.rawValue), got '\(h)'")
            }
            for (i, e) in se.endpoints.enumerated() where !e.address.isEmpty && !IPAddressText.isIP(e.address) && !isFQDN(e.address) {
                c.error("spec.endpoints[\(i)].address", "endpoint address '\(e.address)' is not a valid FQDN or an IP address")
            }
            if se.resolution == .DNS_ROUND_ROBIN && se.endpoints.count > 1 {
                c.error("spec.endpoints", "there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN")
            }
        case .DYNAMIC_DNS:
            for (i, h) in se.hosts.enumerated() where !h.hasPrefix("*") {
                c.error("spec.hosts[\(i)]", "host must be wildcarded for resolution mode DYNAMIC_DNS")
            }
            if !se.addresses.isEmpty { c.error("spec.addresses", "addresses cannot be set for resolution type DYNAMIC_DNS") }
            if !se.endpoints.isEmpty { c.error("spec.endpoints", "endpoints cannot be set for resolution type DYNAMIC_DNS") }
            for (i, p) in se.ports.enumerated() where !(p.protocol.isHTTP || p.protocol == .TLS) {
                c.error("spec.ports[\(i)].protocol", "only HTTP, TLS, GRPC, and HTTP2 protocols are supported for resolution type DYNAMIC_DNS")
            }
            c.warn("spec.resolution", "accepted but not applied by Weft yet (see docs/istio-support.md); the service gets no endpoints")
        }
        if se.resolution != .NONE && se.hosts.count > 1, let i = se.ports.firstIndex(where: { !$0.protocol.isHTTP && $0.protocol != .HTTPS && $0.protocol != .TLS }) {
            c.error("spec.ports[\(i)].protocol", "multiple hosts provided with non-HTTP, non-TLS ports")
        }
        for (i, e) in se.endpoints.enumerated() {
            validateWorkloadEntry(e, path: "spec.endpoints[\(i)]", &c)
            if e.address.hasPrefix("unix://") && se.ports.count != 1 {
                c.error("spec.endpoints[\(i)].address", "exactly 1 service port required for unix endpoints")
            }
            for name in e.ports.keys.sorted() where !names.contains(name) {
                c.error("spec.endpoints[\(i)].ports.\(name)", "no service port is named '\(name)'")
            }
        }
        for (i, a) in se.addresses.enumerated() where !IPAddressText.isIP(a.split(separator: "/").first.map(String.init) ?? a) {
            c.error("spec.addresses[\(i)]", "'\(a)' is not an IP address or CIDR")
        }
    }

    static func validateWorkloadEntry(_ we: WorkloadEntry, path p: String, _ c: inout Checker) {
        if we.address.isEmpty {
            if let n = we.network {
                c.warn("\(p).address", "address is unset with network \(n): such an endpoint is reached through its network's gateway, which Weft does not run yet, so it is left out")
            } else {
                c.error("\(p).address", "missing required field")
            }
        }
        if !we.address.isEmpty && !IPAddressText.isIP(we.address) && !we.address.hasPrefix("unix://") {
            c.host(we.address, "\(p).address", wildcard: false)
        }
        if we.address.hasPrefix("unix://") {
            unixAddress(String(we.address.dropFirst("unix://".count)), "\(p).address", &c)
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
