import ProxyConfig

/// The HTTP filters weft proxy runs, by Envoy name. A new filter is one file in this folder with its type, its
/// settings type in ProxyConfig, and one line here (plus, on the xDS side, the conversion of its typed config in
/// XDSClient).
public enum HTTPFilterRegistry {
    public static let known: [any HTTPFilter.Type] = [
        JWTAuthnFilter.self,
        RBACFilter.self,
        LocalRateLimitFilter.self,
        FaultFilter.self,
    ]

    /// The order used when no listener gives one (tables built by hand): Envoy's usual order, as weft control
    /// writes `http_filters` (authentication, authorization, local rate limit, fault; CORS and telemetry to come).
    public static let defaultOrder = known.map { $0.name }

    /// Whether weft proxy runs a filter of this name.
    public static func knows(_ name: String) -> Bool { known.contains { $0.name == name } }

    static func type(named name: String) -> (any HTTPFilter.Type)? { known.first { $0.name == name } }

    /// Compiles a route table's chains for a listener's filter order (Envoy's HCM `http_filters`, router
    /// excluded): the listener-wide chain from the table's own settings, and each route's chain, where a filter
    /// runs with the route's settings (`typed_per_filter_config`) or else shares the listener-wide instance.
    /// Filters the order does not name do not run, as in Envoy. Done when config arrives, never per request.
    public static func compile(_ table: RouteTable, order: [String]? = nil) -> RouteTable {
        var table = table
        let order = (order ?? defaultOrder).filter(knows)
        var listenerWide: [String: any HTTPFilter] = [:]
        for name in order {
            if let s = table.filterSettings[name], let f = type(named: name)?.init(settings: s) { listenerWide[name] = f }
        }
        table.filterOrder = order
        table.filters = order.compactMap { listenerWide[$0] }
        for v in table.virtualHosts.indices {
            for r in table.virtualHosts[v].routes.indices {
                table.virtualHosts[v].routes[r].filters = order.compactMap { name -> (any HTTPFilter)? in
                    guard let own = table.virtualHosts[v].routes[r].filterSettings[name] else { return listenerWide[name] }
                    return type(named: name)?.init(settings: own)
                }
            }
        }
        return table
    }
}

extension Route {
    /// A route with its chain compiled in the default order (for routes built by hand, as tests do).
    public func compiled() -> Route {
        var r = self
        r.filters = HTTPFilterRegistry.defaultOrder.compactMap { name in
            filterSettings[name].flatMap { HTTPFilterRegistry.type(named: name)?.init(settings: $0) }
        }
        return r
    }
}
