import WeftCore

/// How a listener labels Istio's standard metrics: which side reports (an inbound listener is the destination's
/// sidecar, any other the source's) and who this proxy is (from the listener's `weft.peer` metadata). A class:
/// every connection's origin holds it, and copying that origin should cost one reference, not five strings.
public final class ListenerTelemetry: Sendable, Equatable {
    public enum Reporter: String, Sendable {
        case source, destination
    }
    public let reporter: Reporter
    public let own: PeerMetadata

    public init(reporter: Reporter, own: PeerMetadata) {
        self.reporter = reporter
        self.own = own
    }

    public static func == (a: ListenerTelemetry, b: ListenerTelemetry) -> Bool { a.reporter == b.reporter && a.own == b.own }
}

/// A service behind a cluster, as Istio's cluster metadata names it (`destination_service`, `_name`, `_namespace`).
public struct ServiceRef: Sendable, Hashable {
    public var host: String
    public var name: String
    public var namespace: String

    public init(host: String, name: String, namespace: String) {
        self.host = host
        self.name = name
        self.namespace = namespace
    }

    /// A destination no cluster metadata names: the request's authority without its port, as Istio falls back to.
    public static func authority(_ authority: String) -> ServiceRef {
        var host = Substring(authority)
        if host.hasPrefix("[") {
            host = host.dropFirst().prefix { $0 != "]" }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            host = host[..<colon]
        }
        let h = host.isEmpty ? PeerMetadata.unknown : String(host)
        return ServiceRef(host: h, name: h, namespace: PeerMetadata.unknown)
    }

    public static let unknown = ServiceRef(host: PeerMetadata.unknown, name: PeerMetadata.unknown, namespace: PeerMetadata.unknown)
}
