import WeftCore

extension ResourceValidator {
    static let retryOnValues: Set<String> = [
        "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "envoy-ratelimited", "retriable-4xx",
        "refused-stream", "retriable-status-codes", "retriable-headers", "http3-post-connect-failure",
        "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
    ]
    static let grpcStatusNames: Set<String> = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    static func validateVirtualService(_ vs: VirtualService, _ c: inout Checker) {
        if vs.isDelegate {
            // A delegate (no hosts): only http routes, merged into the root routes that name it.
            if !vs.gateways.isEmpty { c.error("spec.gateways", "a delegate VirtualService (no hosts) must not name gateways") }
            if !vs.tls.isEmpty { c.error("spec.tls", "a delegate VirtualService (no hosts) must not have tls routes") }
            if !vs.tcp.isEmpty { c.error("spec.tcp", "a delegate VirtualService (no hosts) must not have tcp routes") }
        }
        if !vs.tls.isEmpty { c.warn("spec.tls", "accepted but not applied by Weft yet (see docs/istio-support.md)") }
        if !vs.exportTo.isEmpty { c.warn("spec.exportTo", "accepted but not applied by Weft yet (see docs/istio-support.md)") }
        gatewayNames(vs.gateways, "spec.gateways", &c)
        for (i, t) in vs.tls.enumerated() { tlsRoute(t, "spec.tls[\(i)]", vs, &c) }
        for (i, h) in vs.hosts.enumerated() {
            if h == "*" && vs.appliesToMesh {
                c.error("spec.hosts[\(i)]", "'*' is only allowed for gateways")
            } else if !(appliesToGateway(vs) && !vs.tls.isEmpty && isAutoSNI(h)) {
                c.host(h, "spec.hosts[\(i)]")
            }
        }
        overlappingHosts(vs.hosts, &c)
        if vs.http.isEmpty && vs.tcp.isEmpty && vs.tls.isEmpty { c.error("spec", "set at least one http, tcp or tls route") }
        var names: Set<String> = []
        for (i, route) in vs.http.enumerated() {
            let p = "spec.http[\(i)]"
            if let n = route.name, !names.insert(n).inserted { c.error("\(p).name", "duplicate route name '\(n)'") }
            validateHTTPRoute(route, p, &c)
            if let d = route.delegate {
                if vs.isDelegate { c.error("\(p).delegate", "a delegate VirtualService's route cannot delegate again") }
                if !route.route.isEmpty { c.error("\(p).route", "a route with a delegate must not also set route") }
                if route.redirect != nil { c.error("\(p).redirect", "a route with a delegate must not also set redirect") }
                if d.name.isEmpty { c.warn("\(p).delegate.name", "empty: this route is left out, as Istio does") }
            }
            if vs.appliesToMesh { claimMatches(route, p, gateways: vs.gateways, &c) }
        }
        for (i, route) in vs.tcp.enumerated() {
            let p = "spec.tcp[\(i)]"
            if route.route.isEmpty { c.error("\(p).route", "at least one destination is required") }
            for (j, m) in route.match.enumerated() { c.port(m.port, "\(p).match[\(j)].port") }
            weights(route.route, "\(p).route", &c)
            for (j, d) in route.route.enumerated() { destination(d.destination, "\(p).route[\(j)].destination", &c) }
        }
    }

    static func validateHTTPRoute(_ route: HTTPRoute, _ p: String, _ c: inout Checker) {
        let actions = [!route.route.isEmpty, route.redirect != nil, route.directResponse != nil].filter { $0 }.count
        if actions == 0 && route.delegate == nil { c.error("\(p).route", "set route, redirect or directResponse") }
        if actions > 1 && route.delegate == nil { c.error(p, "set only one of route, redirect and directResponse") }
        if route.mirror != nil && !route.mirrors.isEmpty { c.error("\(p).mirrors", "set only one of mirror and mirrors") }
        for (j, m) in route.mirrors.enumerated() {
            destination(m.destination, "\(p).mirrors[\(j)].destination", &c)
            c.percent(m.percentage, "\(p).mirrors[\(j)].percentage.value")
        }
        if route.redirect != nil && route.rewrite != nil { c.error("\(p).rewrite", "a redirect route cannot also rewrite") }
        if route.delegate == nil && route.redirect != nil && route.fault != nil { c.error("\(p).fault", "a redirect route cannot also inject faults") }
        if route.delegate == nil && route.directResponse != nil && route.redirect == nil {
            if route.rewrite != nil { c.error("\(p).rewrite", "a directResponse route cannot also rewrite") }
            if route.fault != nil { c.error("\(p).fault", "a directResponse route cannot also inject faults") }
        }
        for (j, m) in route.match.enumerated() {
            let mp = "\(p).match[\(j)]"
            c.stringMatch(m.uri, "\(mp).uri")
            // Istio's validateStringMatch: only a uri may match an empty prefix.
            for (name, sm) in [("method", m.method), ("authority", m.authority), ("scheme", m.scheme)] {
                c.stringMatch(sm, "\(mp).\(name)")
                if sm == .prefix("") { c.error("\(mp).\(name)", "prefix string match should not be empty") }
            }
            for (field, map) in [("headers", m.headers), ("withoutHeaders", m.withoutHeaders), ("queryParams", m.queryParams)] {
                for (k, v) in map.sorted(by: { $0.key < $1.key }) {
                    c.stringMatch(v, "\(mp).\(field).\(k)")
                    if v == .prefix("") { c.error("\(mp).\(field).\(k)", "prefix string match should not be empty") }
                    if field != "queryParams" { matchHeaderName(k, "\(mp).\(field)", &c) }
                }
            }
            if m.uri == .present { c.error("\(mp).uri", "set exact, prefix or regex") }
            c.port(m.port, "\(mp).port")
            gatewayNames(m.gateways, "\(mp).gateways", &c)
            if let ns = m.sourceNamespace, !KubernetesName.isLabel(ns) { c.error("\(mp).sourceNamespace", "sourceNamespace match \(ns) is invalid") }
        }
        weights(route.route, "\(p).route", &c)
        for (j, d) in route.route.enumerated() { destination(d.destination, "\(p).route[\(j)].destination", &c) }
        // 0 disables the timeout here (Istio refuses 0; docs/istio-support.md).
        if let t = route.timeout, t != 0 { c.duration(t, "\(p).timeout") }
        headers(route.headers, "\(p).headers", authorityRewrite: route.rewrite?.authority, &c)
        for (j, d) in route.route.enumerated() { headers(d.headers, "\(p).route[\(j)].headers", authorityRewrite: nil, &c) }
        if let r = route.retries {
            if r.attempts < 0 { c.error("\(p).retries.attempts", "must not be negative, got \(r.attempts)") }
            if r.attempts == 0 && r.retryRemoteLocalities != nil {
                c.error("\(p).retries", "retryRemoteLocalities is set while attempts is 0 (retries disabled); set attempts")
            }
            if r.attempts == 0 && (r.perTryTimeout != nil || !(r.retryOn ?? "").isEmpty) {
                c.error("\(p).retries", "a retry policy is configured while attempts is 0 (retries disabled); set attempts")
            }
            c.duration(r.perTryTimeout, "\(p).retries.perTryTimeout")
            for part in (r.retryOn ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                if let code = Int(part) {
                    if !(100...599).contains(code) { c.error("\(p).retries.retryOn", "'\(part)' is not an HTTP status code") }
                } else if !retryOnValues.contains(part) {
                    c.error("\(p).retries.retryOn", "'\(part)' is not a retry condition (for example 5xx, gateway-error, connect-failure, reset, retriable-4xx)")
                }
            }
        }
        if let f = route.fault {
            if let d = f.delay {
                c.duration(d.fixedDelay, "\(p).fault.delay.fixedDelay")
                c.percent(d.percentage, "\(p).fault.delay.percentage.value")
            }
            if let a = f.abort {
                c.percent(a.percentage, "\(p).fault.abort.percentage.value")
                switch a.kind {
                case let .http(s) where !(200...599).contains(s):
                    c.error("\(p).fault.abort.httpStatus", "must be an HTTP status from 200 to 599, got \(s)")
                case let .grpc(s) where !grpcStatusNames.contains(s):
                    c.error("\(p).fault.abort.grpcStatus", "'\(s)' is not a gRPC status name (for example UNAVAILABLE)")
                default: break
                }
            }
            if f.delay == nil && f.abort == nil { c.error("\(p).fault", "set delay or abort") }
        }
        if let m = route.mirror { destination(m, "\(p).mirror", &c) }
        c.percent(route.mirrorPercentage, "\(p).mirrorPercentage.value")
        if let r = route.redirect {
            if let code = r.redirectCode, !(300...399).contains(code) {
                c.error("\(p).redirect.redirectCode", "must be a 3xx status, got \(code)")
            }
            c.port(r.port, "\(p).redirect.port")
            if r.uri != nil && r.prefixRewrite != nil { c.error("\(p).redirect", "set only one of uri and prefixRewrite") }
            if r.prefixRewrite != nil {
                for (j, m) in route.match.enumerated() {
                    if let u = m.uri, case .prefix = u {} else if m.uri != nil {
                        c.error("\(p).match[\(j)].uri", "redirect prefixRewrite needs every uri match to be a prefix match")
                    }
                }
            }
            if r.uri == nil && r.prefixRewrite == nil && r.authority == nil && r.port == nil && r.scheme == nil {
                c.error("\(p).redirect", "set uri, prefixRewrite, authority, scheme or port")
            }
            if let s = r.scheme, s != "http" && s != "https" { c.error("\(p).redirect.scheme", "must be http or https") }
        }
        if let d = route.directResponse {
            if !(200...599).contains(d.status) {
                c.error("\(p).directResponse.status", "must be an HTTP status from 200 to 599, got \(d.status)")
            }
            let size = d.body?.count ?? 0
            if size > 1 << 20 {
                c.error("\(p).directResponse.body", "large direct responses slow the control plane; must be under 1MB, got \(size) bytes")
            } else if size > 100 << 10 {
                c.warn("\(p).directResponse.body", "large direct responses slow the control plane (\(size) bytes)")
            }
        }
        if let rw = route.rewrite {
            if let m = rw.uriRegexMatch, !m.isEmpty { c.regex(m, "\(p).rewrite.uriRegexRewrite.match") }
            if rw.uri != nil && rw.uriRegexMatch != nil { c.error("\(p).rewrite", "set only one of uri and uriRegexRewrite") }
            if rw.uri == nil && rw.uriRegexMatch == nil && rw.authority == nil {
                c.error("\(p).rewrite", "rewrite must set at least one of uri, uriRegexRewrite and authority")
            }
        }
        if let cors = route.corsPolicy { corsPolicy(cors, "\(p).corsPolicy", &c) }
    }

    /// Istio's rule: no negative weight, and several destinations cannot all weigh 0. Weights need not add up
    /// to 100: both data planes split by each weight's share of the total, as Istio normalises them.
    static func weights(_ dests: [HTTPRouteDestination], _ p: String, _ c: inout Checker) {
        var sum = 0
        for (j, d) in dests.enumerated() {
            if let w = d.weight, w < 0 { c.error("\(p)[\(j)].weight", "weight must not be negative, got \(w)") }
            sum += max(0, d.weight ?? 0)
        }
        if dests.count > 1 && sum == 0 { c.error(p, "total destination weight is 0") }
    }

    static func destination(_ d: Destination, _ p: String, _ c: inout Checker) {
        c.host(d.host, "\(p).host")
        c.port(d.port, "\(p).port.number")
        if let s = d.subset, s.isEmpty { c.error("\(p).subset", "must not be empty") }
    }
}

import Foundation
