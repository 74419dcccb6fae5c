import Foundation
import EnvoyAPI
import ProxyConfig
import ProxyRouting
import SwiftProtobuf
import Testing
@testable import XDSClient

/// Hand-built resources: refusals carry the field path; Envoy's defaults and enums convert as Envoy reads them.
@Suite struct ConversionTests {
    typealias RC = Envoy_Config_Route_V3_RouteConfiguration

    static func routeConfig(_ edit: (inout Envoy_Config_Route_V3_Route) -> Void) -> RC {
        var rc = RC()
        rc.name = "outbound_http"
        var vh = Envoy_Config_Route_V3_VirtualHost()
        vh.name = "a"
        vh.domains = ["a"]
        for i in 0..<3 {
            var r = Envoy_Config_Route_V3_Route()
            r.match.prefix = "/\(i)"
            r.route.cluster = "c"
            if i == 2 { edit(&r) }
            vh.routes.append(r)
        }
        rc.virtualHosts = [vh]
        return rc
    }

    @Test func invalidRegexNamesTheFieldPath() {
        let rc = Self.routeConfig { $0.match.safeRegex.regex = "((" }
        #expect(throws: XDSConversionError(
            resource: "RouteConfiguration outbound_http", path: "virtual_hosts[0].routes[2].match.safe_regex.regex",
            message: "invalid regular expression '(('")) { try XDSConversion.routeTable(rc) }
        do {
            _ = try XDSConversion.routeTable(rc)
        } catch {
            #expect(error.description == "RouteConfiguration outbound_http: virtual_hosts[0].routes[2].match.safe_regex.regex: invalid regular expression '(('")
        }
    }

    @Test func unknownRetryConditionIsRefused() {
        let rc = Self.routeConfig { $0.route.retryPolicy.retryOn = "5xx,sometimes" }
        #expect(throws: XDSConversionError(resource: "RouteConfiguration outbound_http", path: "virtual_hosts[0].routes[2].route.retry_policy.retry_on",
                                           message: "unknown retry condition 'sometimes'")) { try XDSConversion.routeTable(rc) }
    }

    @Test(arguments: [
        (Envoy_Type_V3_FractionalPercent.DenominatorType.hundred, UInt32(5), 50_000),
        (.tenThousand, 5, 500),
        (.million, 5, 5),
        (.hundred, 200, 1_000_000),
    ])
    func fractionsBecomePartsPerMillion(_ d: Envoy_Type_V3_FractionalPercent.DenominatorType, _ n: UInt32, _ ppm: Int) throws {
        var f = Envoy_Type_V3_FractionalPercent()
        f.denominator = d
        f.numerator = n
        #expect(try Convert.perMillion(f) == ppm)
    }

    @Test func timeoutDefaultsAndZero() throws {
        func timeout(_ edit: (inout Envoy_Config_Route_V3_Route) -> Void) throws -> Duration? {
            let t = try XDSConversion.routeTable(Self.routeConfig(edit))
            guard case let .forward(f) = t.virtualHosts[0].routes[2].action else { return .seconds(-1) }
            return f.timeout
        }
        #expect(try timeout { _ in } == .seconds(15))
        #expect(try timeout { $0.route.timeout = Google_Protobuf_Duration(seconds: 0) } == nil)
        #expect(try timeout { $0.route.timeout = Google_Protobuf_Duration(seconds: 2, nanos: 500_000_000) } == .milliseconds(2_500))
    }

    @Test(arguments: [(Envoy_Config_Route_V3_RedirectAction.RedirectResponseCode.movedPermanently, 301), (.found, 302),
                      (.seeOther, 303), (.temporaryRedirect, 307), (.permanentRedirect, 308)])
    func redirectCodes(_ code: Envoy_Config_Route_V3_RedirectAction.RedirectResponseCode, _ status: Int) throws {
        let t = try XDSConversion.routeTable(Self.routeConfig { r in
            r.redirect.responseCode = code
            r.redirect.httpsRedirect = true
            r.redirect.portRedirect = 8443
        })
        guard case let .redirect(a) = t.virtualHosts[0].routes[2].action else { Issue.record("expected redirect"); return }
        #expect(a.status == status && a.scheme == "https" && a.port == 8443)
    }

    @Test func headerAppendActions() throws {
        func option(_ k: String, _ action: Envoy_Config_Core_V3_HeaderValueOption.HeaderAppendAction) -> Envoy_Config_Core_V3_HeaderValueOption {
            var o = Envoy_Config_Core_V3_HeaderValueOption()
            o.header.key = k
            o.header.value = "v"
            o.appendAction = action
            return o
        }
        let t = try XDSConversion.routeTable(Self.routeConfig { r in
            r.requestHeadersToAdd = [option("X-Set", .overwriteIfExistsOrAdd), option("x-add", .appendIfExistsOrAdd)]
            r.requestHeadersToRemove = ["x-gone"]
        })
        #expect(t.virtualHosts[0].routes[2].requestHeaders == HeaderEdits(set: [("x-set", "v")], append: [("x-add", "v")], remove: ["x-gone"]))
        let bad = Self.routeConfig { $0.responseHeadersToAdd = [option("a", .addIfAbsent)] }
        #expect(throws: XDSConversionError.self) { try XDSConversion.routeTable(bad) }
    }

    @Test func listenerWithUnknownFilterIsRefused() throws {
        var l = Envoy_Config_Listener_V3_Listener()
        l.name = "odd"
        l.address.socketAddress.address = "127.0.0.1"
        l.address.socketAddress.portValue = 80
        var f = Envoy_Config_Listener_V3_Filter()
        f.name = "envoy.filters.network.redis_proxy"
        f.typedConfig = try Google_Protobuf_Any(message: Google_Protobuf_Duration())
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [f]
        l.filterChains = [chain]
        #expect(throws: XDSConversionError(resource: "Listener odd", path: "filter_chains[0].filters[0].typed_config",
                                           message: "unsupported network filter 'google.protobuf.Duration' (need an HTTP connection manager or tcp_proxy)")) {
            try XDSConversion.listener(l)
        }
    }

    @Test func originalDstNeedsTheHeader() {
        var c = Envoy_Config_Cluster_V3_Cluster()
        c.name = "passthrough"
        c.type = .originalDst
        c.lbPolicy = .clusterProvided
        #expect(throws: XDSConversionError.self) { try XDSConversion.cluster(c) }
        c.originalDstLbConfig.useHTTPHeader = true
        #expect((try? XDSConversion.cluster(c))?.config.discovery == .originalDestination)
    }

    @Test func upstreamTLSWithFiles() throws {
        var c = Envoy_Config_Cluster_V3_Cluster()
        c.name = "secure"
        c.type = .eds
        c.transportSocket.name = "envoy.transport_sockets.tls"
        // A transport socket that is not an UpstreamTlsContext: refused.
        #expect(throws: XDSConversionError.self) { try XDSConversion.cluster(c) }
        let ca = NSTemporaryDirectory() + "weft-conv-ca-\(UUID().uuidString).pem"
        FileManager.default.createFile(atPath: ca, contents: Data("-----BEGIN CERTIFICATE-----\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: ca) }
        var ctx = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
        ctx.sni = "secure.example"
        ctx.commonTlsContext.validationContext.trustedCa.filename = ca
        c.transportSocket.typedConfig = try Google_Protobuf_Any(message: ctx)
        let tls = try #require(try XDSConversion.cluster(c).config.meshTLS)
        #expect(tls.files == UpstreamTLSFiles(caCertificates: ca, certificateChain: nil, privateKey: nil))
        #expect(tls.sni == "secure.example" && !tls.onlyMarkedEndpoints)
        // A file it cannot read: refused, naming the field and the file (as Envoy refuses the cluster).
        var cert = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
        cert.certificateChain.filename = "/nonexistent/client.pem"
        cert.privateKey.filename = ca
        ctx.commonTlsContext.tlsCertificates = [cert]
        c.transportSocket.typedConfig = try Google_Protobuf_Any(message: ctx)
        #expect {
            try XDSConversion.cluster(c)
        } throws: { e in
            "\(e)".contains("tls_certificates[0].certificate_chain") && "\(e)".contains("/nonexistent/client.pem")
        }
    }

    @Test func refusedResponseLeavesTheAssemblerUnchanged() throws {
        var a = SnapshotAssembler()
        let good = try Fixture.translate()
        try a.apply(typeURL: EnvoyTypeURL.routeConfiguration, version: "r1", resources: Fixture.pack(good.routes))
        let bad = Self.routeConfig { $0.match.safeRegex.regex = "((" }
        #expect(throws: XDSConversionError.self) {
            try a.apply(typeURL: EnvoyTypeURL.routeConfiguration, version: "r2", resources: Fixture.pack([bad]))
        }
        #expect(a.versions[EnvoyTypeURL.routeConfiguration] == "r1")
    }
}
