import EnvoyAPI
import SwiftProtobuf
import Synchronization
import Testing
import WeftCore
import WeftModel
import XDSTranslation
@testable import XDSServer

/// The xDS cache: one translation per distinct proxy view per change, however many streams share the view.
@Suite struct XDSCacheTests {
    let cds = EnvoyTypeURL.cluster, lds = EnvoyTypeURL.listener

    func request(_ type: String, node id: String, app: String) -> Request {
        var r = Request()
        r.typeURL = type
        r.node.id = id
        r.node.metadata.fields[NodeMetadataKey.outbound] = .init(stringValue: "127.0.0.1:15001")
        var labels = Google_Protobuf_Struct()
        labels.fields["app"] = .init(stringValue: app)
        r.node.metadata.fields[NodeMetadataKey.labels] = .init(structValue: labels)
        return r
    }

    @Test func aChangeIsTranslatedOncePerScopeNotOncePerStream() throws {
        let cache = XDSCache()
        let apps = ["front", "reviews", "ratings"]
        // 30 streams: 10 replicas of each of 3 workloads (same labels and listeners, different node ids).
        var streams = (0..<30).map { _ in ADSStreamState(cache: cache) }
        var first: [String: String] = [:]
        for i in streams.indices {
            let app = apps[i % 3]
            _ = streams[i].onMesh(try mesh(version: 1, subset: "v1"))
            let (r, _) = streams[i].onRequest(request(cds, node: "\(app)-\(i)", app: app))
            _ = streams[i].onRequest(request(lds, node: "\(app)-\(i)", app: app))
            // Replicas of one workload get the very same resources.
            if let v = first[app] { #expect(r[0].versionInfo == v) } else { first[app] = r[0].versionInfo }
        }
        #expect(cache.translations == 3)
        #expect(cache.scopes == 3)
        for i in streams.indices { _ = streams[i].onMesh(try mesh(version: 2, subset: "v2")) }
        #expect(cache.translations == 6, "one more translation per scope for the new version")
        #expect(cache.scopes == 3, "entries of the old version are gone")
    }

    @Test func theGeneratorOnlySeesTheScope() throws {
        let recording = Recording()
        let cache = XDSCache(generator: recording)
        var s = ADSStreamState(cache: cache)
        _ = s.onMesh(try mesh(version: 1, subset: "v1"))
        _ = s.onRequest(request(cds, node: "front-7", app: "front"))
        let nodes = recording.seen.withLock { $0 }
        #expect(nodes.count == 1 && nodes[0].id == "" && nodes[0].labels == ["app": "front"])
    }

    /// What a proxy accepts is part of its scope: an older weft proxy (no client features) and a current one
    /// get different listeners, so they must not share a cache entry.
    @Test func theProxysUserAgentAndFeaturesArePartOfTheScope() throws {
        let cache = XDSCache()
        var filters: [[String]] = []
        for features in [[String](), WeftClientFeature.all] {
            var s = ADSStreamState(cache: cache)
            _ = s.onMesh(try mesh(version: 1, subset: "v1"))
            var r = request(lds, node: "front-\(features.count)", app: "front")
            r.node.userAgentName = WeftClientFeature.userAgent
            r.node.clientFeatures = features
            let (out, _) = s.onRequest(r)
            let l = try Envoy_Config_Listener_V3_Listener(unpackingAny: try #require(out.first?.resources.first))
            filters.append(l.filterChains[0].filters.map(\.name))
        }
        #expect(cache.scopes == 2)
        #expect(filters[0].count == 1, "an older weft proxy gets no connection limit: \(filters[0])")
        #expect(filters[1].first == EnvoyFilterName.connectionLimit)
    }

    @Test func aStreamBehindTheNewestVersionIsServedWithoutTouchingTheCache() throws {
        let cache = XDSCache()
        var a = ADSStreamState(cache: cache), b = ADSStreamState(cache: cache)
        _ = a.onMesh(try mesh(version: 2, subset: "v2"))
        _ = a.onRequest(request(cds, node: "a", app: "front"))
        _ = b.onMesh(try mesh(version: 1, subset: "v1"))
        let (r, _) = b.onRequest(request(cds, node: "b", app: "front"))
        #expect(r.count == 1)
        #expect(cache.translations == 2 && cache.scopes == 1)
    }
}

final class Recording: XDSGenerator {
    let seen = Mutex<[ProxyNode]>([])
    func scope(of node: ProxyNode) -> ProxyNode { TranslatorGenerator().scope(of: node) }
    func generate(mesh: MeshState, scope: ProxyNode) -> ProxyResources {
        seen.withLock { $0.append(scope) }
        return TranslatorGenerator().generate(mesh: mesh, scope: scope)
    }
}
