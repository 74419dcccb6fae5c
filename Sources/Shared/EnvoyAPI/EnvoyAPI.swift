// EnvoyAPI: the Swift form of the Envoy v3 xDS API, as far as Weft uses it.
//
// This module holds only code generated from our own trimmed copies of Envoy's .proto
// files (Protos/, regenerated with scripts/gen-protos.sh into Generated/) plus the type
// URL constants below. The trimmed protos keep Envoy's packages, names and field numbers,
// so messages built here are wire-compatible with a real Envoy. No logic belongs here:
// translation lives in XDSTranslation and serving in XDSServer.

/// Type URLs of the xDS resources Weft serves, as carried in `google.protobuf.Any`
/// and in `DiscoveryRequest.type_url`.
public enum EnvoyTypeURL {
    /// LDS: `envoy.config.listener.v3.Listener`.
    public static let listener = "type.googleapis.com/envoy.config.listener.v3.Listener"
    /// CDS: `envoy.config.cluster.v3.Cluster`.
    public static let cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    /// RDS: `envoy.config.route.v3.RouteConfiguration`.
    public static let routeConfiguration = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
    /// EDS: `envoy.config.endpoint.v3.ClusterLoadAssignment`.
    public static let clusterLoadAssignment = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
    /// SDS: `envoy.extensions.transport_sockets.tls.v3.Secret`.
    public static let secret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
}

/// Envoy's names for the filters and extensions Weft configures and understands (shared by both sides).
public enum EnvoyFilterName {
    public static let hcm = "envoy.filters.network.http_connection_manager"
    public static let tcpProxy = "envoy.filters.network.tcp_proxy"
    public static let connectionLimit = "envoy.filters.network.connection_limit"
    public static let router = "envoy.filters.http.router"
    public static let fault = "envoy.filters.http.fault"
    public static let cors = "envoy.filters.http.cors"
    public static let localRateLimit = "envoy.filters.http.local_ratelimit"
    public static let httpProtocolOptions = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    public static let tls = "envoy.transport_sockets.tls"
    public static let tlsInspector = "envoy.filters.listener.tls_inspector"
    public static let rbac = "envoy.filters.http.rbac"
    public static let networkRbac = "envoy.filters.network.rbac"
    public static let jwtAuthn = "envoy.filters.http.jwt_authn"
}

/// How weft control writes authentication results for authorization: the JWT filter puts each verified token's
/// payload in the request's dynamic metadata under this filter name and key, and RBAC metadata matchers read the
/// claims below it (`payload.iss`, `payload.sub`, `payload.groups`, ...).
public enum JWTMetadata {
    public static let filter = EnvoyFilterName.jwtAuthn
    public static let payloadKey = "payload"
}

/// Istio's names for mesh mTLS in xDS, which the control plane writes and weft proxy reads: the SDS secrets of
/// the workload certificate and the root, and the endpoint metadata that auto mTLS's socket match selects.
public enum MeshTLSName {
    public static let certificateSecret = "default"
    public static let rootSecret = "ROOTCA"
    public static let socketMatchKey = "envoy.transport_socket_match"
    public static let tlsModeField = "tlsMode"
    public static let tlsModeIstio = "istio"
}

/// What a weft proxy says it understands, in its node's `client_features` (Envoy's mechanism for this), so a
/// newer control plane sends an older weft proxy only what it accepts.
public enum WeftClientFeature {
    /// The node's `user_agent_name` when the proxy is weft proxy.
    public static let userAgent = "weft-proxy"
    /// Accepts a `connection_limit` network filter before its HTTP connection manager or TCP proxy.
    public static let connectionLimit = "weft.filters.network.connection_limit"
    /// Takes Istio mutual TLS: inbound filter chains by transport protocol, SDS secrets, auto-mTLS socket matches.
    public static let meshTLS = "weft.transport_sockets.mesh_tls"
    public static let all = [connectionLimit]
}

/// Listener metadata only weft proxy reads (`metadata.filter_metadata["weft"]`); Envoy ignores it.
public enum WeftListenerMetadata {
    public static let key = "weft"
    /// Number: premature stream resets allowed per second over all of the listener's connections.
    public static let prematureResetsPerSecond = "premature_resets_per_second"
    /// String: the proxy's own workload labels for Istio's standard metrics, in PeerMetadata's header form.
    public static let peer = "peer"
    /// List: Telemetry's metric overrides for this side, in order, each `{metric, disabled?, remove: [label],
    /// upsert: {label: value}}` (Istio's metric names: REQUEST_COUNT, ..., ALL_METRICS).
    public static let metrics = "metrics"
}

/// Istio's cluster metadata (`metadata.filter_metadata["istio"]`): the services a cluster reaches, which label
/// the standard metrics' `destination_service*`.
public enum IstioClusterMetadata {
    public static let key = "istio"
    public static let services = "services"
    public static let host = "host"
    public static let name = "name"
    public static let namespace = "namespace"
}

/// Weft writes a locality as one path, `region[/zone[/subzone]]`, as Istio does.
extension Envoy_Config_Core_V3_Locality {
    public init(path: String) {
        self.init()
        let parts = path.split(separator: "/").map(String.init)
        if parts.count > 0 { region = parts[0] }
        if parts.count > 1 { zone = parts[1] }
        if parts.count > 2 { subZone = parts[2] }
    }

    /// `region/zone/subzone` without trailing empty parts; empty when no region is set.
    public var path: String {
        [region, zone, subZone].reversed().drop { $0.isEmpty }.reversed().joined(separator: "/")
    }
}
