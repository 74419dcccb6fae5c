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

    func document() -> JSONValue {
        var meta: [(String, JSONValue)] = [
            (NodeMetadataKey.namespace, .string(namespace)),
            (NodeMetadataKey.labels, .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            (NodeMetadataKey.instanceIPs, .string(addresses.joined(separator: ","))),
            (NodeMetadataKey.serviceAccount, .string(serviceAccount)),
        ]
        if let outbound { meta.append((NodeMetadataKey.outbound, .string(outbound.description))) }
        if !inbound.isEmpty { meta.append((NodeMetadataKey.inbound, .string(inbound.joined(separator: ",")))) }
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
                    ("grpc_services", .array([.object([("envoy_grpc", .object([
                        ("cluster_name", .string("weft-xds")),
                        ("retry_policy", .object([("retry_back_off", .object([("base_interval", .string("0.25s")), ("max_interval", .string("2s"))]))])),
                    ]))])])),
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
            ])]))])),
            ("admin", .object([("address", socket(admin))])),
        ])
    }

    func socket(_ hp: HostPort) -> JSONValue {
        .object([("socket_address", .object([("address", .string(hp.host)), ("port_value", .number(Double(hp.port)))]))])
    }
}
