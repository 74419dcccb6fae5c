import WeftCore

/// How Envoy turns its stat names into Prometheus labels. Envoy's default cluster-name tag ends the name at its
/// first dot, which cuts Istio's cluster names (`outbound|9080||reviews.default.svc.cluster.local`) in two and
/// folds the rest of the host into every metric's name. As Istio's bootstrap does, the cluster name is read up to
/// a `*.svc.cluster.local` host, and the other tags Weft's dashboards read keep Envoy's default rules (a tag named
/// without a regex uses Envoy's own). docs/observability.md lists what Envoy's metrics carry.
enum EnvoyStatsConfig {
    static let clusterNameRegex = #"^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)"#

    /// Tags kept with Envoy's default regular expressions.
    static let defaultTags = [
        "envoy.listener_address", "envoy.response_code", "envoy.response_code_class", "envoy.http_conn_manager_prefix",
        "envoy.http_user_agent", "envoy.tcp_prefix", "envoy.ssl_cipher", "envoy.ssl_curve", "envoy.ssl_sigalg",
        "envoy.ssl_version", "envoy.rds_route_config", "envoy.virtual_host", "envoy.worker_id", "envoy.rbac_prefix",
        "envoy.rbac_http_prefix", "envoy.rbac_policy_name", "envoy.connection_limit_prefix",
        "envoy.local_http_ratelimit_prefix", "envoy.fault_downstream_cluster",
    ]

    static var json: JSONValue {
        var tags: [JSONValue] = [.object([("tag_name", .string("envoy.cluster_name")), ("regex", .string(clusterNameRegex))])]
        tags += defaultTags.map { .object([("tag_name", .string($0))]) }
        return .object([("use_all_default_tags", .bool(false)), ("stats_tags", .array(tags))])
    }
}
