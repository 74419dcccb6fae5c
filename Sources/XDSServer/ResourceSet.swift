import EnvoyAPI
import SwiftProtobuf
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
    static let pushOrder = [EnvoyTypeURL.cluster, EnvoyTypeURL.clusterLoadAssignment, EnvoyTypeURL.listener, EnvoyTypeURL.routeConfiguration]

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
            map[name] = Entry(any: any, hash: FNV.hash(bytes))
        }
        byType[type] = map
    }

    /// The resources of `type` a subscription receives, sorted by name, and their version string.
    func select(_ type: String, names: Set<String>?) -> (resources: [Google_Protobuf_Any], version: String) {
        let all = byType[type] ?? [:]
        let keys = (names.map { n in all.keys.filter { n.contains($0) } } ?? Array(all.keys)).sorted()
        var h = FNV.offset
        for k in keys {
            h = FNV.mix(h, Array(k.utf8))
            h = FNV.mix(h, withUnsafeBytes(of: all[k]!.hash.littleEndian, Array.init))
        }
        return (keys.map { all[$0]!.any }, String(h, radix: 16))
    }
}

/// FNV-1a, 64 bit: a stable content hash for versions (Swift's Hasher is seeded per process).
enum FNV {
    static let offset: UInt64 = 0xcbf2_9ce4_8422_2325
    static func mix(_ h: UInt64, _ bytes: [UInt8]) -> UInt64 {
        var h = h
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
    static func hash(_ bytes: [UInt8]) -> UInt64 { mix(offset, bytes) }
}

import Foundation
