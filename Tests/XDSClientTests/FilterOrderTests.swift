import EnvoyAPI
import ProxyConfig
import ProxyRouting
import SwiftProtobuf
import Testing
@testable import XDSClient

/// The proxy runs a route's HTTP filters in the order of its listener's `http_filters`, as Envoy does; an RDS
/// table two listeners list with different orders is compiled once per order.
@Suite struct FilterOrderTests {
    typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
    typealias HTTPFilter_ = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter

    static func filter(_ name: String) -> HTTPFilter_ {
        var f = HTTPFilter_()
        f.name = name
        return f
    }

    static func listener(_ name: String, port: UInt32, order: [String]) throws -> Envoy_Config_Listener_V3_Listener {
        var hcm = HCM()
        hcm.statPrefix = name
        hcm.rds.routeConfigName = "shared"
        hcm.rds.configSource.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        hcm.httpFilters = order.map(filter) + [filter("envoy.filters.http.router")]
        var f = Envoy_Config_Listener_V3_Filter()
        f.name = "envoy.filters.network.http_connection_manager"
        f.typedConfig = try Google_Protobuf_Any(message: hcm)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [f]
        var l = Envoy_Config_Listener_V3_Listener()
        l.name = name
        l.address.socketAddress.address = "127.0.0.1"
        l.address.socketAddress.portValue = port
        l.filterChains = [chain]
        return l
    }

    /// One route with both a fault (abort 1%) and a local rate limit of its own.
    static func routes() throws -> Envoy_Config_Route_V3_RouteConfiguration {
        var rc = ConversionTests.routeConfig { _ in }
        rc.name = "shared"
        var fault = Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault()
        fault.abort.httpStatus = 503
        fault.abort.percentage.numerator = 1
        var limit = Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit()
        limit.statPrefix = "rl"
        limit.tokenBucket.maxTokens = 5
        limit.tokenBucket.fillInterval = Google_Protobuf_Duration(seconds: 1)
        limit.filterEnabled.defaultValue.numerator = 100
        limit.filterEnforced.defaultValue.numerator = 100
        rc.virtualHosts[0].routes[0].typedPerFilterConfig["envoy.filters.http.fault"] = try Google_Protobuf_Any(message: fault)
        rc.virtualHosts[0].routes[0].typedPerFilterConfig["envoy.filters.http.local_ratelimit"] = try Google_Protobuf_Any(message: limit)
        return rc
    }

    func chain(_ s: ProxySnapshot, listener: String) throws -> [String] {
        guard case let .http(table, _)? = s.listeners[listener]?.kind else { Issue.record("no HTTP listener \(listener)"); return [] }
        let t = try #require(s.routeTables[table])
        return t.virtualHosts[0].routes[0].filters.map { type(of: $0).name }
    }

    @Test func eachListenerRunsTheRoutesFiltersInItsOwnOrder() throws {
        let fault = "envoy.filters.http.fault", limit = "envoy.filters.http.local_ratelimit"
        var a = SnapshotAssembler()
        try a.apply(typeURL: EnvoyTypeURL.listener, version: "1", resources: Fixture.pack([
            try Self.listener("envoy_order", port: 81, order: [limit, fault, "envoy.filters.http.cors"]),
            try Self.listener("fault_first", port: 82, order: [fault, limit]),
            try Self.listener("fault_only", port: 83, order: [fault]),
        ]))
        try a.apply(typeURL: EnvoyTypeURL.routeConfiguration, version: "1", resources: Fixture.pack([try Self.routes()]))
        let s = a.snapshot()
        #expect(try chain(s, listener: "envoy_order") == [limit, fault])
        #expect(try chain(s, listener: "fault_first") == [fault, limit])
        #expect(try chain(s, listener: "fault_only") == [fault], "a filter the listener does not run ignores the route's config")
        // The first listener by name keeps the table's own name; the others get a table of their own.
        #expect(s.listeners["envoy_order"]?.kind == .http(routeTable: "shared", statPrefix: "envoy_order"))
        #expect(s.listeners["fault_first"]?.kind == .http(routeTable: "shared@fault_first", statPrefix: "fault_first"))
    }

    @Test func anEndpointUpdateKeepsTheRateLimitBucket() throws {
        let limit = "envoy.filters.http.local_ratelimit"
        var a = SnapshotAssembler()
        try a.apply(typeURL: EnvoyTypeURL.listener, version: "1", resources: Fixture.pack([try Self.listener("l", port: 81, order: [limit])]))
        try a.apply(typeURL: EnvoyTypeURL.routeConfiguration, version: "1", resources: Fixture.pack([try Self.routes()]))
        func limiter(_ s: ProxySnapshot) throws -> RateLimiter {
            let f = try #require(s.routeTables["shared"]?.virtualHosts[0].routes[0].filters.first as? LocalRateLimitFilter)
            return f.limiter
        }
        let before = try limiter(a.snapshot())
        try a.apply(typeURL: EnvoyTypeURL.cluster, version: "2", resources: [])
        #expect(try limiter(a.snapshot()) === before, "clusters and endpoints changing does not refill the bucket")
        try a.apply(typeURL: EnvoyTypeURL.routeConfiguration, version: "3", resources: Fixture.pack([try Self.routes()]))
        #expect(try limiter(a.snapshot()) !== before, "new route config, new bucket (as Envoy's new filter config)")
    }
}
