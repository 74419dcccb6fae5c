import EnvoyAPI
import ProxyConfig
import SwiftProtobuf
import Testing
import WeftConfig
import WeftModel
@testable import XDSClient

/// Mesh-wide listener limits: decoded with field-path errors, translated into every listener, and read back by
/// weft proxy's conversion from the same fields Envoy reads (plus the `weft` metadata only it reads).
@Suite struct ListenerLimitsTests {
    struct Lines: Error { let lines: [String] }

    static func decode(_ text: String) -> Result<ListenerLimits, Lines> {
        do { return .success(try ListenerLimits.decode(text: text, file: "limits.yaml")) } catch {
            return .failure(Lines(lines: error.diagnostics.map { $0.description }))
        }
    }

    @Test func aLimitsFileOverridesWhatItNames() throws {
        let l = try Self.decode("""
        maxHeadersCount: 50
        requestHeadersTimeout: 5s
        maxConnections: 20
        prematureResetsPerSecond: 10
        pathNormalization: {normalization: MERGE_SLASHES}
        http2: {maxConcurrentStreams: 10}
        """).get()
        var want = ListenerLimits()
        want.maxHeadersCount = 50
        want.requestHeadersTimeoutNanos = 5_000_000_000
        want.maxConnections = 20
        want.prematureResetsPerSecond = 10
        want.pathNormalization = .mergeSlashes
        want.http2MaxConcurrentStreams = 10
        #expect(l == want)
    }

    @Test(arguments: [
        ("maxHeadersCount: 0", "limits.yaml: maxHeadersCount: must be between 1 and 10000, got 0"),
        ("maxConnections: -1", "limits.yaml: maxConnections: must be between 0 and 1000000000, got -1"),
        ("idleTimeout: 99999999h", "limits.yaml: idleTimeout: '99999999h' is too long (at most 2562047h, about 292 years)"),
        ("pathNormalization: DECODE_AND_MERGE_SLASHES",
         "limits.yaml: pathNormalization: 'DECODE_AND_MERGE_SLASHES' is not supported yet (decoding %2F and %5C); use NONE, BASE or MERGE_SLASHES"),
        ("http2: {initialStreamWindowSize: 10}", "limits.yaml: http2.initialStreamWindowSize: must be between 65535 and 2147483647, got 10"),
        ("maxConections: 5", "limits.yaml: maxConections: unknown field 'maxConections'"),
    ])
    func badValuesNameTheField(text: String, message: String) {
        guard case let .failure(e) = Self.decode(text) else { return #expect(Bool(false), "accepted: \(text)") }
        #expect(e.lines.contains(message), "\(e.lines)")
    }

    @Test func everyListenerCarriesTheLimitsAndWeftProxyReadsThem() throws {
        var limits = ListenerLimits()
        limits.maxConnections = 20
        limits.prematureResetsPerSecond = 7
        limits.maxHeadersCount = 42
        limits.pathNormalization = .mergeSlashes
        limits.perConnectionBufferLimitBytes = 65_536
        limits.maxRequestHeadersKb = 32
        let resources = try Fixture.translate(limits: limits)
        #expect(!resources.listeners.isEmpty)
        for l in resources.listeners {
            #expect(l.filterChains[0].filters[0].name == EnvoyFilterName.connectionLimit, "\(l.name)")
            let converted = try XDSConversion.listener(l)
            #expect(converted.config.maxConnections == 20, "\(l.name)")
            #expect(converted.config.http.connectionBufferLimit == 65_536)
            if case .http = converted.config.kind {
                #expect(converted.config.http.prematureResetsPerSecond == 7)
                #expect(converted.config.http.maxHeadersCount == 42)
                #expect(converted.config.http.maxRequestHeadersBytes == 32 * 1024)
                #expect(converted.config.http.normalizePath && converted.config.http.mergeSlashes)
            }
        }
    }

    @Test func noConnectionLimitMeansNoFilter() throws {
        var limits = ListenerLimits()
        limits.maxConnections = 0
        limits.prematureResetsPerSecond = 0
        for l in try Fixture.translate(limits: limits).listeners {
            #expect(l.filterChains[0].filters.count == 1)
            let converted = try XDSConversion.listener(l)
            #expect(converted.config.maxConnections == nil)
            #expect(converted.config.http.prematureResetsPerSecond == nil)
        }
    }

    @Test func aConnectionLimitWithADelayIsRefusedWithItsPath() throws {
        var l = try #require(Fixture.translate().listeners.first)
        var cl = Envoy_Extensions_Filters_Network_ConnectionLimit_V3_ConnectionLimit()
        cl.statPrefix = "x"
        cl.maxConnections = Google_Protobuf_UInt64Value(5)
        cl.delay = Google_Protobuf_Duration(seconds: 1)
        l.filterChains[0].filters[0].typedConfig = try Google_Protobuf_Any(message: cl)
        #expect(throws: XDSConversionError(resource: "Listener \(l.name)", path: "filter_chains[0].filters[0].typed_config.delay",
                                           message: "a delay before closing is not supported")) { try XDSConversion.listener(l) }
    }
}

extension ListenerLimitsTests {
    /// A newer control plane and an older weft proxy: the connection limit goes only to proxies that can take it
    /// (Envoy, and weft proxies that list the feature in their node's client_features), so an old proxy keeps
    /// its listeners rather than refusing them all.
    @Test func theConnectionLimitGoesOnlyToProxiesThatAcceptIt() throws {
        func firstFilters(userAgent: String, features: Set<String>) throws -> [String] {
            var node = Fixture.proxy
            node.userAgent = userAgent
            node.clientFeatures = features
            let l = try #require(Fixture.translate(proxy: node).listeners.first)
            return l.filterChains[0].filters.map(\.name)
        }
        #expect(try firstFilters(userAgent: "envoy", features: []).first == EnvoyFilterName.connectionLimit)
        #expect(try firstFilters(userAgent: "", features: []).first == EnvoyFilterName.connectionLimit)
        #expect(try firstFilters(userAgent: WeftClientFeature.userAgent, features: Set(WeftClientFeature.all)).first == EnvoyFilterName.connectionLimit)
        #expect(try firstFilters(userAgent: WeftClientFeature.userAgent, features: []).count == 1, "an older weft proxy gets no connection limit")
    }
}
