import WeftCore

/// One line per HTTP route of each VirtualService: its match and where it sends traffic, with weights and faults.
enum RouteSummary {
    static func render(_ resources: [JSONValue]) -> String {
        guard !resources.isEmpty else { return "(no VirtualServices: each service's traffic is spread over all its workloads)\n" }
        var out = ""
        for r in resources {
            let spec = r["spec"]
            let hosts = spec?["hosts"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ",") ?? ""
            let ns = r["namespace"]?.stringValue ?? ""
            out += "\(hosts.isEmpty ? "(delegate)" : hosts)  (VirtualService \(ns)/\(r["name"]?.stringValue ?? ""))\n"
            for route in spec?["http"]?.arrayValue ?? [] {
                out += "  \(match(route["match"]))  ->  \(action(route, namespace: ns))\(fault(route["fault"]))\n"
            }
        }
        return out
    }

    static func match(_ m: JSONValue?) -> String {
        guard let list = m?.arrayValue, !list.isEmpty else { return "any request" }
        return list.map { one -> String in
            var parts: [String] = []
            if case let .object(h)? = one["headers"] {
                for (name, cond) in h { parts.append("header \(name) \(condition(cond))") }
            }
            if let uri = one["uri"] { parts.append("uri \(condition(uri))") }
            return parts.isEmpty ? "any request" : parts.joined(separator: " and ")
        }.joined(separator: " or ")
    }

    static func condition(_ c: JSONValue) -> String {
        guard case let .object(pairs) = c, let (kind, value) = pairs.first else { return "?" }
        let v = value.stringValue ?? "?"
        return kind == "exact" ? "= \(v)" : "\(kind) \(v)"
    }

    /// Where a route sends traffic: its destinations, a delegate VirtualService, a redirect or a direct response.
    static func action(_ route: JSONValue, namespace: String) -> String {
        if let d = route["delegate"] {
            return "delegate \(d["namespace"]?.stringValue ?? namespace)/\(d["name"]?.stringValue ?? "")"
        }
        if let r = route["redirect"] { return "redirect \(r["uri"]?.stringValue ?? r["prefixRewrite"]?.stringValue ?? r["authority"]?.stringValue ?? "")" }
        if let d = route["directResponse"] { return "direct response \(Int(d["status"]?.numberValue ?? 0))" }
        return targets(route["route"])
    }

    static func targets(_ r: JSONValue?) -> String {
        let list = r?.arrayValue ?? []
        return list.map { t -> String in
            let d = t["destination"]
            var s = d?["host"]?.stringValue ?? "?"
            if let subset = d?["subset"]?.stringValue { s += " \(subset)" }
            if list.count > 1 || t["weight"] != nil { s += " \(Int(t["weight"]?.numberValue ?? 0))%" }
            return s
        }.joined(separator: ", ")
    }

    /// `50%`, `0.5%`; 100% when no percentage is given (as Istio).
    static func percent(_ p: JSONValue?) -> String {
        let v = p?["value"]?.numberValue ?? 100
        return v.rounded() == v ? "\(Int(v))%" : "\(v)%"
    }

    static func fault(_ f: JSONValue?) -> String {
        guard let f else { return "" }
        var parts: [String] = []
        if let a = f["abort"] {
            parts.append("abort \(Int(a["httpStatus"]?.numberValue ?? 0)) for \(percent(a["percentage"]))")
        }
        if let d = f["delay"] {
            parts.append("delay \(d["fixedDelay"]?.stringValue ?? "?") for \(percent(d["percentage"]))")
        }
        return parts.isEmpty ? "" : "  [fault: \(parts.joined(separator: ", "))]"
    }
}
