import WeftCore

/// Checks the meaning of one resource on its own: ranges, formats, regexes, required combinations.
/// One file per kind holds the rules; this file holds the entry point and shared checks.
public enum ResourceValidator {
    public static func validate(_ r: Resource) -> [Diagnostic] { check(r).errors }

    /// The resource's problems (errors refuse it) and warnings (it is accepted; the user should know).
    public static func check(_ r: Resource) -> (errors: [Diagnostic], warnings: [Diagnostic]) {
        var c = Checker(file: r.source, resource: r.key.description)
        switch r.spec {
        case let .virtualService(vs): validateVirtualService(vs, &c)
        case let .destinationRule(dr): validateDestinationRule(dr, &c)
        case let .serviceEntry(se): validateServiceEntry(se, &c)
        case let .workloadEntry(we): validateWorkloadEntry(we, path: "spec", &c)
        case let .workloadGroup(wg): c.labels(wg.labels, "spec.metadata.labels")
        case let .sidecar(sc): validateSidecar(sc, &c)
        case let .gateway(gw): validateGateway(gw, name: r.key.name, &c)
        case let .rateLimit(rl): validateRateLimit(rl, &c)
        case let .peerAuthentication(pa): validatePeerAuthentication(pa, &c)
        case let .authorizationPolicy(ap): validateAuthorizationPolicy(ap, &c)
        case let .requestAuthentication(ra): validateRequestAuthentication(ra, &c)
        case let .telemetry(t): validateTelemetry(t, &c)
        }
        return (c.diagnostics, c.warnings)
    }
}

/// Collects diagnostics for one resource.
struct Checker {
    let file: String
    let resource: String
    var diagnostics: [Diagnostic] = []
    var warnings: [Diagnostic] = []

    mutating func error(_ path: String, _ message: String) {
        diagnostics.append(Diagnostic(file: file, resource: resource, path: path, message: message))
    }

    mutating func warn(_ path: String, _ message: String) {
        warnings.append(Diagnostic(file: file, resource: resource, path: path, message: message))
    }

    mutating func percent(_ value: Double?, _ path: String) {
        if let v = value, !(0...100).contains(v) { error(path, "percentage must be between 0 and 100, got \(v)") }
    }

    mutating func port(_ value: Int?, _ path: String) {
        if let p = value, let problem = PortNumber.problem(p) { error(path, "port " + problem) }
    }

    mutating func positive(_ value: Int?, _ path: String) {
        if let v = value, v <= 0 { error(path, "must be greater than 0, got \(v)") }
    }

    mutating func nonNegative(_ value: Int?, _ path: String) {
        if let v = value, v < 0 { error(path, "must not be negative, got \(v)") }
    }

    /// Istio's rule for durations (agent.ValidateDuration): at least 1ms, and whole milliseconds.
    mutating func duration(_ value: Int64?, _ path: String) {
        guard let v = value else { return }
        if v < 1_000_000 {
            error(path, "duration must be at least 1ms")
        } else if v % 1_000_000 != 0 {
            error(path, "only durations to ms precision are supported")
        }
    }

    mutating func host(_ h: String, _ path: String, wildcard: Bool = true) {
        if h.isEmpty { error(path, "host must not be empty"); return }
        if h == "*" {
            if !wildcard { error(path, "'*' is not allowed here") }
            return
        }
        var name = Substring(h)
        if name.hasPrefix("*.") {
            if !wildcard { error(path, "wildcard host '\(h)' is not allowed here") }
            name = name.dropFirst(2)
        } else if name.hasPrefix("*") {
            // A partial wildcard in the first label (`*example.com`, `*-api.example.com`), as Istio allows.
            if !wildcard { error(path, "wildcard host '\(h)' is not allowed here") }
            name = name.dropFirst(name.hasPrefix("*-") ? 2 : 1)
        }
        let ok = name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
                && label.first != "-" && label.last != "-"
        }
        if !ok { error(path, "'\(h)' is not a valid host name") }
    }

    mutating func regex(_ pattern: String, _ path: String) {
        if let why = RE2Check.problem(in: pattern) { error(path, "invalid RE2 regex '\(pattern)': \(why)") }
    }

    mutating func stringMatch(_ m: StringMatch?, _ path: String) {
        if case let .regex(p) = m { regex(p, path + ".regex") }
    }

    /// Kubernetes' label rules (as Istio's labels.Instance.Validate): a key is `[prefix/]name`, the prefix a
    /// DNS-1123 subdomain, the name (and a non-empty value) at most 63 letters, digits, `-`, `_` and `.`, starting
    /// and ending with a letter or digit.
    mutating func labels(_ labels: [String: String], _ path: String) {
        func qualified(_ s: Substring) -> Bool {
            guard let f = s.first, let l = s.last, s.count <= 63, f.isASCII && (f.isLetter || f.isNumber), l.isASCII && (l.isLetter || l.isNumber) else { return false }
            return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
        }
        for (k, v) in labels.sorted(by: { $0.key < $1.key }) {
            let parts = k.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let keyOK = parts.count == 1 ? qualified(parts[0]) : (KubernetesName.isSubdomain(String(parts[0])) && qualified(parts[1]))
            if !keyOK { error("\(path).\(k)", "invalid label key '\(k)': [prefix/]name, the name at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit") }
            if !v.isEmpty && !qualified(Substring(v)) {
                error("\(path).\(k)", "invalid label value '\(v)': at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit")
            }
        }
    }
}
