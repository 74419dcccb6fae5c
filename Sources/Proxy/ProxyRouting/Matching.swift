import ProxyConfig

// Matching a request against a route's matchers (Envoy's semantics), as pure functions of the `RequestView`.

extension StringMatcher {
    public func matches(_ s: Substring, ignoreCase: Bool = false) -> Bool {
        let v = ignoreCase ? Substring(s.lowercased()) : s
        switch self {
        case let .exact(e): return v == (ignoreCase ? e.lowercased() : e)
        case let .prefix(p): return v.hasPrefix(ignoreCase ? p.lowercased() : p)
        case let .suffix(p): return v.hasSuffix(ignoreCase ? p.lowercased() : p)
        case let .contains(p): return v.contains(ignoreCase ? p.lowercased() : p)
        case let .regex(r): return r.fullMatch(s)
        }
    }
}

extension HeaderMatcher {
    public func matches(_ r: RequestView) -> Bool {
        let value = r.header(name)
        let result: Bool
        switch kind {
        case let .present(want): result = (value != nil) == want
        case let .string(m): result = value.map { m.matches(Substring($0)) } ?? false
        }
        return result != invert
    }
}

extension QueryMatcher {
    public func matches(_ r: RequestView) -> Bool {
        guard let q = r.query else { return false }
        for pair in q.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.first.map({ String($0) }) == name else { continue }
            let value = kv.count > 1 ? kv[1] : ""
            return matcher?.matches(value) ?? true
        }
        return false
    }
}

extension RouteMatch {
    public func matches(_ r: RequestView) -> Bool {
        let p = r.path
        switch path {
        case let .prefix(x):
            if caseSensitive ? !p.hasPrefix(x) : !p.lowercased().hasPrefix(x.lowercased()) { return false }
        case let .exact(x):
            if caseSensitive ? p != x : p.lowercased() != x.lowercased() { return false }
        case let .regex(rx):
            if !rx.fullMatch(p) { return false }
        case let .separatedPrefix(x):
            guard p == x || p.hasPrefix(x + "/") else { return false }
        }
        return headers.allSatisfy { $0.matches(r) } && query.allSatisfy { $0.matches(r) }
    }
}
