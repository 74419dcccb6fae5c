import Foundation
import EnvoyAPI
import SwiftProtobuf
import WeftCore
import XDSTranslation

/// One proxy's translated resources by type URL and name, packed once, with a content hash per resource.
struct ResourceSet: Sendable {
    struct Entry: Sendable {
        var any: Google_Protobuf_Any
        var hash: UInt64
    }
    var byType: [String: [String: Entry]] = [:]

    /// Listeners and clusters are sent whole; routes and endpoints by the names the proxy asks for.
    static let wildcardTypes: Set<String> = [EnvoyTypeURL.listener, EnvoyTypeURL.cluster]
    /// The order in which a change is pushed, so a proxy never sees a reference before its target.
    /// Secrets first: clusters and listeners that use them wait (warm) until they arrive.
    static let pushOrder = [EnvoyTypeURL.secret, EnvoyTypeURL.cluster, EnvoyTypeURL.clusterLoadAssignment, EnvoyTypeURL.listener, EnvoyTypeURL.routeConfiguration]

    init(_ r: ProxyResources) {
        add(EnvoyTypeURL.cluster, r.clusters.map { ($0.name, $0) })
        add(EnvoyTypeURL.clusterLoadAssignment, r.endpoints.map { ($0.clusterName, $0) })
        add(EnvoyTypeURL.listener, r.listeners.map { ($0.name, $0) })
        add(EnvoyTypeURL.routeConfiguration, r.routes.map { ($0.name, $0) })
    }

    init() {}

    mutating func add(_ type: String, _ items: [(String, any SwiftProtobuf.Message)]) {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        var map: [String: Entry] = [:]
        for (name, message) in items {
            let bytes: [UInt8] = (try? message.serializedBytes(options: options)) ?? []
            var any = Google_Protobuf_Any()
            any.typeURL = type
            any.value = Data(bytes)
            map[name] = Entry(any: any, hash: FNV1a.hash(bytes))
        }
        byType[type] = map
    }

    /// The resources of `type` a subscription receives, sorted by name, and their version string.
    func select(_ type: String, names: Set<String>?) -> (resources: [Google_Protobuf_Any], version: String) {
        let all = byType[type] ?? [:]
        let keys = (names.map { n in all.keys.filter { n.contains($0) } } ?? Array(all.keys)).sorted()
        var h = FNV1a.offset
        for k in keys {
            h = FNV1a.mix(h, k)
            h = FNV1a.mix(h, withUnsafeBytes(of: all[k]!.hash.littleEndian, Array.init))
        }
        return (keys.map { all[$0]!.any }, String(h, radix: 16))
    }
}
