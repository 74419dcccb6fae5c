import WeftCore

/// Builds the Envoy bootstrap that points a stock Envoy at `weft control` over ADS.
struct EnvoyBootstrap {
    var node: String
    var namespace: String
    var labels: [String: String]
    var controlPlane: HostPort
    var outbound: HostPort?
    var inbound: [String]
    var admin: HostPort
    var addresses: [String]
    var locality: String? = nil
    var serviceAccount = "default"
    /// xDS over TLS (a control plane not run with --insecure): the root Envoy checks it by, a throwaway client
    /// certificate for the handshake, and the join token sent on every stream.
    var xdsTLS: XDSTLS?

    struct XDSTLS {
        var rootPEM: String
        var clientCertPEM: String
        var clientKeyPEM: String
        var token: String?
    }

    func document() -> JSONValue {
        var meta: [(String, JSONValue)] = [
            (NodeMetadataKey.namespace, .string(namespace)),
            (NodeMetadataKey.labels, .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            (NodeMetadataKey.instanceIPs, .string(addresses.joined(separator: ","))),
            (NodeMetadataKey.serviceAccount, .string(serviceAccount)),
        ]
        if let outbound { meta.append((NodeMetadataKey.outbound, .string(outbound.description))) }
        if !inbound.isEmpty { meta.append((NodeMetadataKey.inbound, .string(inbound.joined(separator: ",")))) }
        meta.append((NodeMetadataKey.admin, .string(admin.description)))
        let ads: JSONValue = .object([("ads", .object([])), ("resource_api_version", .string("V3"))])
        let isIP = IPAddressText.isIP(controlPlane.host)
        var nodeFields: [(String, JSONValue)] = [("id", .string(node)), ("cluster", .string(labels["app"] ?? namespace)), ("metadata", .object(meta))]
        if let locality {
            let parts = locality.split(separator: "/").map { JSONValue.string(String($0)) }
            nodeFields.append(("locality", .object(zip(["region", "zone", "sub_zone"], parts).map { ($0, $1) })))
        }
        return .object([
            ("node", .object(nodeFields)),
            ("dynamic_resources", .object([
                ("ads_config", .object([
                    ("api_type", .string("GRPC")), ("transport_api_version", .string("V3")),
                    ("grpc_services", .array([.object(grpcService)])),
                ])),
                ("cds_config", ads), ("lds_config", ads),
            ])),
            ("static_resources", .object([("clusters", .array([.object([
                ("name", .string("weft-xds")),
                ("type", .string(isIP ? "STATIC" : "STRICT_DNS")),
                ("connect_timeout", .string("1s")),
                ("typed_extension_protocol_options", .object([("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", .object([
                    ("@type", .string("type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions")),
                    ("explicit_http_config", .object([("http2_protocol_options", .object([]))])),
                ]))])),
                ("load_assignment", .object([
                    ("cluster_name", .string("weft-xds")),
                    ("endpoints", .array([.object([("lb_endpoints", .array([.object([("endpoint", .object([("address", socket(controlPlane))]))])]))])])),
                ])),
            ] + xdsTransportSocket)]))])),
            ("admin", .object([("address", socket(admin))])),
            ("stats_config", EnvoyStatsConfig.json),
        ])
    }

    /// The ADS service, with the join token as call metadata when there is one (Envoy cannot switch to a
    /// certificate of its own on this connection, so it presents the token on every stream; docs/security.md).
    var grpcService: [(String, JSONValue)] {
        var service: [(String, JSONValue)] = [("envoy_grpc", .object([
            ("cluster_name", .string("weft-xds")),
            ("retry_policy", .object([("retry_back_off", .object([("base_interval", .string("0.25s")), ("max_interval", .string("2s"))]))])),
        ]))]
        if let token = xdsTLS?.token {
            service.append(("initial_metadata", .array([.object([("key", .string("authorization")), ("value", .string("Bearer \(token)"))])])))
        }
        return service
    }

    /// TLS to the control plane: its certificate must chain to the mesh root and name a control plane identity.
    var xdsTransportSocket: [(String, JSONValue)] {
        guard let tls = xdsTLS else { return [] }
        func inline(_ s: String) -> JSONValue { .object([("inline_string", .string(s))]) }
        return [("transport_socket", .object([
            ("name", .string("envoy.transport_sockets.tls")),
            ("typed_config", .object([
                ("@type", .string("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext")),
                ("common_tls_context", .object([
                    ("alpn_protocols", .array([.string("h2")])),
                    ("tls_certificates", .array([.object([("certificate_chain", inline(tls.clientCertPEM)), ("private_key", inline(tls.clientKeyPEM))])])),
                    ("validation_context", .object([
                        ("trusted_ca", inline(tls.rootPEM)),
                        ("match_typed_subject_alt_names", .array([.object([
                            ("san_type", .string("URI")),
                            ("matcher", .object([("safe_regex", .object([("regex", .string("spiffe://[^/]+/ns/[^/]+/sa/\(SpiffeID.controlPlaneServiceAccount)"))]))])),
                        ])])),
                    ])),
                ])),
            ])),
        ]))]
    }

    func socket(_ hp: HostPort) -> JSONValue {
        .object([("socket_address", .object([("address", .string(hp.host)), ("port_value", .number(Double(hp.port)))]))])
    }
}
