import EnvoyAPI
import ProxyConfig
import ProxyRouting
import SwiftProtobuf

/// The last accepted xDS resources of each type, by name, and the ProxySnapshot they make together.
/// `apply` converts a whole DiscoveryResponse or nothing: a refused response leaves the assembler unchanged.
public struct SnapshotAssembler: Sendable {
    public private(set) var clusters: [String: ConvertedCluster] = [:]
    public private(set) var assignments: [String: [EndpointConfig]] = [:]
    public private(set) var listeners: [String: ConvertedListener] = [:]
    public private(set) var routeTables: [String: RouteTable] = [:]
    /// The RDS tables with their filter chains compiled in the order of the listeners that use them (redone when
    /// listeners or routes change, not on cluster or endpoint updates, so a rate limit's bucket lives on).
    private var compiledTables: [String: RouteTable] = [:]
    /// Listeners whose table had to be compiled apart (another listener uses it with another filter order).
    private var tableKeys: [String: String] = [:]
    /// Accepted `version_info` by type URL.
    public private(set) var versions: [String: String] = [:]

    public init() {}

    /// The EDS names the accepted EDS clusters need, sorted.
    public var edsNames: [String] { Set(clusters.values.compactMap(\.edsServiceName)).sorted() }

    /// The RDS names the accepted listeners reference, sorted.
    public var routeNames: [String] { Set(listeners.values.compactMap(\.rdsName)).sorted() }

    /// Converts and stores one response's resources. Clusters and listeners are replaced whole (wildcard
    /// state of the world); endpoints and route tables are merged by name and pruned to what is still referenced.
    public mutating func apply(typeURL: String, version: String, resources: [Google_Protobuf_Any]) throws(XDSConversionError) {
        switch typeURL {
        case EnvoyTypeURL.cluster:
            let items = try decode(resources, as: Envoy_Config_Cluster_V3_Cluster.self, kind: "Cluster", name: \.name)
            var next: [String: ConvertedCluster] = [:]
            for c in items { next[c.name] = try XDSConversion.cluster(c) }
            clusters = next
            assignments = assignments.filter { Set(edsNames).contains($0.key) }
        case EnvoyTypeURL.clusterLoadAssignment:
            let items = try decode(resources, as: Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self, kind: "ClusterLoadAssignment",
                                   name: \.clusterName)
            var next = assignments
            for la in items { next[la.clusterName] = try XDSConversion.endpoints(la) }
            let wanted = Set(edsNames)
            assignments = next.filter { wanted.contains($0.key) }
        case EnvoyTypeURL.listener:
            let items = try decode(resources, as: Envoy_Config_Listener_V3_Listener.self, kind: "Listener", name: \.name)
            var next: [String: ConvertedListener] = [:]
            for l in items { next[l.name] = try XDSConversion.listener(l) }
            listeners = next
            routeTables = routeTables.filter { Set(routeNames).contains($0.key) }
            compileTables()
        case EnvoyTypeURL.routeConfiguration:
            let items = try decode(resources, as: Envoy_Config_Route_V3_RouteConfiguration.self, kind: "RouteConfiguration", name: \.name)
            var next = routeTables
            for rc in items { next[rc.name] = try XDSConversion.routeTable(rc) }
            let wanted = Set(routeNames)
            routeTables = next.filter { wanted.contains($0.key) }
            compileTables()
        default:
            throw XDSConversionError(resource: "DiscoveryResponse", path: "type_url", message: "unsupported type '\(typeURL)'")
        }
        versions[typeURL] = version
    }

    /// Compiles each RDS table's filter chains for the listeners that use it; a table two listeners use with
    /// different `http_filters` orders is compiled once per order.
    private mutating func compileTables() {
        compiledTables = [:]
        tableKeys = [:]
        for (name, l) in listeners.sorted(by: { $0.key < $1.key }) {
            guard let rds = l.rdsName, let table = routeTables[rds] else { continue }
            if let done = compiledTables[rds] {
                guard done.filterOrder != l.filterOrder else { continue }
                tableKeys[name] = rds + "@" + name
                compiledTables[rds + "@" + name] = HTTPFilterRegistry.compile(table, order: l.filterOrder)
            } else {
                compiledTables[rds] = HTTPFilterRegistry.compile(table, order: l.filterOrder)
            }
        }
    }

    /// Unpacks each Any, refusing the wrong type and duplicate names.
    func decode<M: SwiftProtobuf.Message>(_ resources: [Google_Protobuf_Any], as _: M.Type, kind: String,
                                          name: KeyPath<M, String>) throws(XDSConversionError) -> [M] {
        var seen: Set<String> = []
        var out: [M] = []
        for (i, any) in resources.enumerated() {
            let m: M = try converting("\(kind) #\(i)") { try Convert.unpack(any, as: M.self) }
            guard seen.insert(m[keyPath: name]).inserted else {
                throw XDSConversionError(resource: "\(kind) \(m[keyPath: name])", path: "", message: "duplicate name in one response")
            }
            out.append(m)
        }
        return out
    }

    /// The runtime snapshot: EDS clusters get the endpoints of their ClusterLoadAssignment (none until it
    /// arrives), listeners' inline route tables are registered under `XDSConversion.inlineRouteName(listener:)`.
    public func snapshot() -> ProxySnapshot {
        var out = ProxySnapshot(versions: versions)
        for (name, c) in clusters {
            var config = c.config
            if let eds = c.edsServiceName { config.endpoints = assignments[eds] ?? [] }
            out.clusters[name] = config
        }
        out.routeTables = compiledTables
        for (name, l) in listeners {
            out.listeners[name] = l.config
            if let key = tableKeys[name], case let .http(_, prefix) = l.config.kind {
                out.listeners[name]?.kind = .http(routeTable: key, statPrefix: prefix)
            }
            if let inline = l.inlineRoutes { out.routeTables[XDSConversion.inlineRouteName(listener: name)] = inline }
        }
        // Warm (Envoy's init manager): clusters and listeners arrived, and every EDS cluster has its endpoints
        // and every listener its route table.
        let edsReady = clusters.values.allSatisfy { c in c.edsServiceName.map { assignments[$0] != nil } ?? true }
        let routesReady = listeners.values.allSatisfy { l in l.rdsName.map { routeTables[$0] != nil } ?? true }
        out.warm = versions[EnvoyTypeURL.cluster] != nil && versions[EnvoyTypeURL.listener] != nil && edsReady && routesReady
        return out
    }
}
