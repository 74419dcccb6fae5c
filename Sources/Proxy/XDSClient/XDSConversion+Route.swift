import EnvoyAPI
import ProxyConfig
import ProxyRouting

/// RDS: RouteConfiguration -> RouteTable, virtual hosts and routes in order.
extension XDSConversion {
    /// Converts a RouteConfiguration (from RDS or inline in an HCM).
    public static func routeTable(_ rc: Envoy_Config_Route_V3_RouteConfiguration) throws(XDSConversionError) -> RouteTable {
        try converting("RouteConfiguration \(rc.name)") { try routeTableFields(rc) }
    }

    static func routeTableFields(_ rc: Envoy_Config_Route_V3_RouteConfiguration) throws -> RouteTable {
        guard !rc.name.isEmpty else { throw FieldError("name is empty", at: ["name"]) }
        if !rc.internalOnlyHeaders.isEmpty {
            throw FieldError("internal_only_headers is not supported", at: ["internal_only_headers"])
        }
        if rc.ignorePortInHostMatching {
            throw FieldError("ignore_port_in_host_matching is not supported", at: ["ignore_port_in_host_matching"])
        }
        // validate_clusters is ignored: the proxy answers 503 for a route to an unknown cluster, as Envoy does
        // when validation is off.
        let request = try headerEdits(add: rc.requestHeadersToAdd, remove: rc.requestHeadersToRemove, addField: "request_headers_to_add")
        let response = try headerEdits(add: rc.responseHeadersToAdd, remove: rc.responseHeadersToRemove, addField: "response_headers_to_add")
        var hosts = try each("virtual_hosts", rc.virtualHosts, virtualHost)
        // RouteTable has no table-level edits, so they are appended to every virtual host's (least specific last).
        for i in hosts.indices {
            hosts[i].requestHeaders = merged(hosts[i].requestHeaders, request)
            hosts[i].responseHeaders = merged(hosts[i].responseHeaders, response)
        }
        return RouteTable(name: rc.name, virtualHosts: hosts)
    }

    static func merged(_ a: HeaderEdits, _ b: HeaderEdits) -> HeaderEdits {
        HeaderEdits(set: a.set + b.set, append: a.append + b.append, remove: a.remove + b.remove)
    }

    static func virtualHost(_ vh: Envoy_Config_Route_V3_VirtualHost) throws -> VirtualHost {
        guard !vh.domains.isEmpty else { throw FieldError("a virtual host needs at least one domain", at: ["domains"]) }
        guard vh.requireTls == .none else { throw FieldError("require_tls is not supported", at: ["require_tls"]) }
        for key in vh.typedPerFilterConfig.keys.sorted() where key != FilterName.cors {
            throw FieldError("per-virtual-host config for '\(key)' is not supported", at: ["typed_per_filter_config"])
        }
        let fallbackRetry: RetryPolicy? = if vh.hasRetryPolicy { try field("retry_policy") { try retryPolicy(vh.retryPolicy) } } else { nil }
        var routes = try each("routes", vh.routes, route)
        // Envoy: a route's own retry_policy replaces the virtual host's.
        for (i, r) in vh.routes.enumerated() where fallbackRetry != nil && !r.route.hasRetryPolicy {
            if case var .forward(f) = routes[i].action {
                f.retry = fallbackRetry
                routes[i].action = .forward(f)
            }
        }
        return VirtualHost(
            name: vh.name, domains: vh.domains, routes: routes,
            requestHeaders: try headerEdits(add: vh.requestHeadersToAdd, remove: vh.requestHeadersToRemove, addField: "request_headers_to_add"),
            responseHeaders: try headerEdits(add: vh.responseHeadersToAdd, remove: vh.responseHeadersToRemove, addField: "response_headers_to_add"))
    }

    static func route(_ r: Envoy_Config_Route_V3_Route) throws -> Route {
        let match = try field("match") { try routeMatch(r.match) }
        let action: RouteAction
        switch r.action {
        case let .route(a)?: action = .forward(try field("route") { try forwardAction(a) })
        case let .redirect(a)?: action = .redirect(try field("redirect") { try redirectAction(a) })
        case let .directResponse(d)?: action = try field("direct_response") { try directResponse(d) }
        case nil: throw FieldError("a route needs route, redirect or direct_response")
        }
        var settings: [String: any HTTPFilterSettings] = [:]
        for key in r.typedPerFilterConfig.keys.sorted() {
            let any = r.typedPerFilterConfig[key]!
            switch key {
            case FilterName.fault:
                settings[key] = try field("typed_per_filter_config[\(key)]") { try faultPolicy(any) }
            case FilterName.cors:
                // CORS is accepted and ignored for now: the proxy has no CORS filter yet, and CORS only shapes
                // browser preflight answers, not where a request is routed.
                break
            case FilterName.localRateLimit:
                settings[key] = try field("typed_per_filter_config[\(key)]") { try rateLimit(any) }
            default:
                throw FieldError("per-route config for '\(key)' is not supported", at: ["typed_per_filter_config[\(key)]"])
            }
        }
        return Route(
            name: r.name, match: match, action: action,
            requestHeaders: try headerEdits(add: r.requestHeadersToAdd, remove: r.requestHeadersToRemove, addField: "request_headers_to_add"),
            responseHeaders: try headerEdits(add: r.responseHeadersToAdd, remove: r.responseHeadersToRemove, addField: "response_headers_to_add"),
            filterSettings: settings)
    }

    static func routeMatch(_ m: Envoy_Config_Route_V3_RouteMatch) throws -> RouteMatch {
        let path: RouteMatch.Path
        switch m.pathSpecifier {
        case let .prefix(p)?: path = .prefix(p)
        case let .path(p)?: path = .exact(p)
        case let .safeRegex(r)?:
            let ci = m.hasCaseSensitive && !m.caseSensitive.value
            path = .regex(try field("safe_regex") { try regex(r, ignoreCase: ci) })
        case let .pathSeparatedPrefix(p)?: path = .separatedPrefix(p)
        case nil: throw FieldError("a route match needs prefix, path, safe_regex or path_separated_prefix")
        }
        var headers = try each("headers", m.headers, headerMatcher)
        if m.hasGrpc {
            // Envoy's grpc match: only requests with a gRPC content type.
            headers.append(HeaderMatcher(name: "content-type", kind: .string(.prefix("application/grpc"))))
        }
        let fraction: Int? = if m.hasRuntimeFraction {
            try field("runtime_fraction") { try field("default_value") { try Convert.perMillion(m.runtimeFraction.defaultValue) } }
        } else { nil }
        return RouteMatch(path: path, caseSensitive: m.hasCaseSensitive ? m.caseSensitive.value : true, headers: headers,
                          query: try each("query_parameters", m.queryParameters, queryMatcher), fractionPerMillion: fraction)
    }
}

typealias FilterName = EnvoyFilterName
