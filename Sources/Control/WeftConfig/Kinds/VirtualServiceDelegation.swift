/// Istio's VirtualService delegation. A root VirtualService's http route that names a `delegate` is replaced by
/// the delegate's routes, in their order: each delegate route keeps its own matches where they lie inside one of
/// the root route's matches (merged with it), and takes the root route's policies it does not set itself. A
/// delegate route whose matches leave every root match is left out, as is a root route whose delegate is
/// missing or not exported to the root's namespace.
public enum VirtualServiceDelegation {
    /// The delegate VirtualServices (those without hosts) among `resources`, by key.
    public static func delegates(in resources: [Resource]) -> [ResourceKey: VirtualService] {
        var out: [ResourceKey: VirtualService] = [:]
        for r in resources {
            if case let .virtualService(vs) = r.spec, vs.isDelegate { out[r.key] = vs }
        }
        return out
    }

    /// Whether a delegate written in `namespace` may be used by a root in `rootNamespace` (its `exportTo`).
    public static func visible(_ delegate: VirtualService, in namespace: String, to rootNamespace: String) -> Bool {
        if delegate.exportTo.isEmpty || delegate.exportTo.contains("*") || delegate.exportTo.contains(rootNamespace) { return true }
        return namespace == rootNamespace && delegate.exportTo.contains(".")
    }

    /// The root with its delegating routes replaced by the merged delegate routes. Short destination hosts of a
    /// delegate are qualified in the delegate's namespace, so they keep meaning what they meant where written.
    public static func resolve(root: VirtualService, namespace: String, delegates: [ResourceKey: VirtualService]) -> VirtualService {
        guard root.http.contains(where: { $0.delegate != nil }) else { return root }
        var out = root
        out.http = root.http.flatMap { route -> [HTTPRoute] in
            guard let d = route.delegate else { return [route] }
            let ns = d.namespace ?? namespace
            guard let delegate = delegates[ResourceKey(kind: .VirtualService, namespace: ns, name: d.name)],
                  visible(delegate, in: ns, to: namespace) else { return [] }
            return delegate.http.compactMap { merge(root: route, delegate: qualified($0, namespace: ns)) }
        }
        return out
    }

    /// One delegate route merged with its root route, or nil when their matches conflict.
    static func merge(root: HTTPRoute, delegate: HTTPRoute) -> HTTPRoute? {
        guard let matches = mergeMatches(root.match, delegate.match) else { return nil }
        var out = delegate
        out.match = matches
        out.delegate = nil
        out.name = joined(root.name, delegate.name)
        if out.rewrite == nil { out.rewrite = root.rewrite }
        if out.directResponse == nil { out.directResponse = root.directResponse }
        if out.timeout == nil { out.timeout = root.timeout }
        if out.retries == nil { out.retries = root.retries }
        if out.fault == nil { out.fault = root.fault }
        if out.mirror == nil { out.mirror = root.mirror }
        if out.mirrorPercentage == nil { out.mirrorPercentage = root.mirrorPercentage }
        if out.mirrors.isEmpty { out.mirrors = root.mirrors }
        if out.corsPolicy == nil { out.corsPolicy = root.corsPolicy }
        if out.headers == nil { out.headers = root.headers }
        return out
    }

    /// Every delegate match must fit in at least one root match; it is merged with each one it fits.
    static func mergeMatches(_ root: [HTTPMatchRequest], _ delegate: [HTTPMatchRequest]) -> [HTTPMatchRequest]? {
        if root.isEmpty { return delegate }
        if delegate.isEmpty { return root }
        var out: [HTTPMatchRequest] = []
        for leaf in delegate {
            let fitting = root.filter { !conflict($0, leaf) }
            if fitting.isEmpty { return nil }
            out += fitting.map { merge(root: $0, leaf: leaf) }
        }
        return out
    }

    static func merge(root: HTTPMatchRequest, leaf: HTTPMatchRequest) -> HTTPMatchRequest {
        var m = leaf
        m.name = joined(root.name, leaf.name)
        m.uri = leaf.uri ?? root.uri
        m.scheme = leaf.scheme ?? root.scheme
        m.method = leaf.method ?? root.method
        m.authority = leaf.authority ?? root.authority
        m.headers = root.headers.merging(leaf.headers) { _, l in l }
        m.withoutHeaders = root.withoutHeaders.merging(leaf.withoutHeaders) { _, l in l }
        m.queryParams = root.queryParams.merging(leaf.queryParams) { _, l in l }
        m.port = leaf.port ?? root.port
        m.sourceLabels = root.sourceLabels.merging(leaf.sourceLabels) { _, l in l }
        m.sourceNamespace = leaf.sourceNamespace ?? root.sourceNamespace
        if m.gateways.isEmpty { m.gateways = root.gateways }
        return m
    }

    /// Istio's test: a delegate match conflicts with a root match when it is not inside it.
    static func conflict(_ root: HTTPMatchRequest, _ leaf: HTTPMatchRequest) -> Bool {
        if conflict(root.uri, leaf.uri) || conflict(root.scheme, leaf.scheme) || conflict(root.method, leaf.method)
            || conflict(root.authority, leaf.authority) { return true }
        if leaf.headers.contains(where: { conflict(root.headers[$0.key], $0.value) }) { return true }
        if leaf.withoutHeaders.contains(where: { conflict(root.withoutHeaders[$0.key], $0.value) }) { return true }
        if leaf.queryParams.contains(where: { conflict(root.queryParams[$0.key], $0.value) }) { return true }
        if root.ignoreUriCase != leaf.ignoreUriCase { return true }
        if let r = root.port, let l = leaf.port, r != l { return true }
        if let r = root.sourceNamespace, leaf.sourceNamespace != r { return true }
        if leaf.sourceLabels.contains(where: { kv in root.sourceLabels[kv.key].map { $0 != kv.value } ?? false }) { return true }
        if !root.gateways.isEmpty && !leaf.gateways.isEmpty && !Set(leaf.gateways).isSubset(of: Set(root.gateways)) { return true }
        return false
    }

    /// String matches: none when either side is unset; otherwise the leaf must be inside the root (an exact
    /// match equal to it, or a prefix or exact under its prefix). Regexes only match unset or each other's absence.
    static func conflict(_ root: StringMatch?, _ leaf: StringMatch?) -> Bool {
        guard let root, let leaf else { return false }
        let r = parts(root), l = parts(leaf)
        if !r.regex.isEmpty && !(l.regex.isEmpty && l.prefix.isEmpty && l.exact.isEmpty) { return true }
        if !l.regex.isEmpty && !(r.regex.isEmpty && r.prefix.isEmpty && r.exact.isEmpty) { return true }
        if !r.exact.isEmpty { return !l.prefix.isEmpty || l.exact != r.exact }
        if !r.prefix.isEmpty {
            if !l.prefix.isEmpty { return !l.prefix.hasPrefix(r.prefix) }
            if !l.exact.isEmpty { return !l.exact.hasPrefix(r.prefix) }
        }
        return true
    }

    private static func parts(_ m: StringMatch) -> (exact: String, prefix: String, regex: String) {
        switch m {
        case let .exact(s): return (s, "", "")
        case let .prefix(s): return ("", s, "")
        case let .regex(s): return ("", "", s)
        case .present: return ("", "", "")
        }
    }

    private static func joined(_ root: String?, _ leaf: String?) -> String? {
        guard let leaf, !leaf.isEmpty else { return root }
        guard let root, !root.isEmpty else { return leaf }
        return "\(root)-\(leaf)"
    }

    private static func qualified(_ route: HTTPRoute, namespace: String) -> HTTPRoute {
        func q(_ d: Destination) -> Destination {
            var d = d
            d.host = HostName.qualify(d.host, namespace: namespace)
            return d
        }
        var r = route
        r.route = r.route.map { var x = $0; x.destination = q(x.destination); return x }
        r.mirror = r.mirror.map(q)
        r.mirrors = r.mirrors.map { var x = $0; x.destination = q(x.destination); return x }
        return r
    }
}
