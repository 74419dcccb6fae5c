/// Istio's host naming: short names resolve in the resource's namespace to `name.namespace.svc.cluster.local`.
public enum HostName {
    public static let clusterDomain = "svc.cluster.local"

    /// The fully qualified form of `host` as written in namespace `namespace`.
    public static func qualify(_ host: String, namespace: String) -> String {
        if host == "*" || host.contains(".") { return host }
        return "\(host).\(namespace).\(clusterDomain)"
    }

    /// Finds the declared host that `host` (written in `namespace`) refers to: the qualified name, then
    /// `name.namespace` completed with the cluster domain, then a wildcard declaration that covers it.
    public static func resolve(_ host: String, namespace: String, declared: Set<String>) -> String? {
        let q = qualify(host, namespace: namespace)
        if declared.contains(q) { return q }
        if host.split(separator: ".").count == 2, declared.contains("\(host).\(clusterDomain)") {
            return "\(host).\(clusterDomain)"
        }
        return declared.filter { $0.hasPrefix("*") && $0 != "*" && q.hasSuffix($0.dropFirst(1)) }.max { $0.count < $1.count }
    }
}
