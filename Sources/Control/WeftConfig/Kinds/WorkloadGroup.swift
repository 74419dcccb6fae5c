/// Istio WorkloadGroup: the template of the WorkloadEntries that auto-registration creates. A process registering
/// through the API with the group's name gets an entry with the template's ports, service account, network and
/// labels (the group's `metadata.labels` over the template's, the registrant's over both).
public struct WorkloadGroup: Hashable, Sendable {
    public var labels: [String: String]
    public var annotations: [String: String]
    /// A WorkloadEntry without an address (the registrant's address fills it).
    public var template: WorkloadEntry
    /// Istio's readiness probe: parsed and checked, not applied yet.
    public var hasProbe = false

    static func decode(_ r: ObjectReader) -> WorkloadGroup {
        defer { r.finish() }
        var labels: [String: String] = [:], annotations: [String: String] = [:]
        if let m = r.object("metadata") {
            labels = m.stringMap("labels")
            annotations = m.stringMap("annotations")
            m.finish()
        }
        var template = WorkloadEntry(address: "", ports: [:], labels: [:])
        if let t = r.object("template") {
            template = WorkloadEntry.decode(t) ?? template
        } else {
            r.ctx.error(r.sub("template"), "template is required")
        }
        var group = WorkloadGroup(labels: labels, annotations: annotations, template: template)
        if let p = r.object("probe") {
            group.hasProbe = true
            ReadinessProbe.check(p)
            p.ctx.notApplied(p.path)
        }
        return group
    }

    /// The labels an entry of this group gets: template, then the group's metadata, then the registrant's own.
    public func labels(registrant: [String: String]) -> [String: String] {
        template.labels.merging(labels) { _, g in g }.merging(registrant) { _, own in own }
    }
}

/// Istio's ReadinessProbe checks (validateReadinessProbe): counts not negative, exactly one of httpGet,
/// tcpSocket and exec, ports in range, scheme HTTP or HTTPS, exec with a command.
enum ReadinessProbe {
    static func check(_ r: ObjectReader) {
        defer { r.finish() }
        for k in ["periodSeconds", "initialDelaySeconds", "timeoutSeconds", "successThreshold", "failureThreshold"] {
            if let v = r.int(k), v < 0 { r.ctx.error(r.sub(k), "\(k) must be non-negative") }
        }
        var methods = 0
        if let h = r.object("httpGet") {
            methods += 1
            port(h)
            _ = h.string("path"); _ = h.string("host")
            if let s = h.string("scheme"), s != "HTTP" && s != "HTTPS" { h.ctx.error(h.sub("scheme"), "httpGet.scheme must be one of \"HTTPS\", \"HTTP\"") }
            _ = h.objects("httpHeaders") { hd -> Bool? in
                defer { hd.finish() }
                let name = hd.string("name") ?? ""
                _ = hd.string("value")
                if name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
                    hd.ctx.error(hd.sub("name"), "invalid probe header name '\(name)'")
                }
                return true
            }
            h.finish()
        }
        if let t = r.object("tcpSocket") {
            methods += 1
            port(t)
            _ = t.string("host")
            t.finish()
        }
        if let e = r.object("exec") {
            methods += 1
            if e.strings("command").isEmpty { e.ctx.error(e.sub("command"), "exec.command is required") }
            e.finish()
        }
        if methods == 0 { r.ctx.error(r.path, "set one of httpGet, tcpSocket and exec") }
        if methods > 1 { r.ctx.error(r.path, "set only one of httpGet, tcpSocket and exec") }
    }

    private static func port(_ r: ObjectReader) {
        let p = r.int("port", required: true) ?? 0
        if !(1...65535).contains(p) { r.ctx.error(r.sub("port"), "port number \(p) must be in the range 1..65535") }
    }
}
