import ArgumentParser
import WeftCore

/// The identity and listener flags shared by `weft bootstrap envoy` and `weft proxy`, so either data plane is
/// started the same way.
struct ProxyIdentityOptions: ParsableArguments {
    @Option(help: "Node id, unique per proxy.") var node: String
    @Option(help: "The proxy's namespace.") var namespace: String = "default"
    @Option(help: "The proxy's labels, k=v,k2=v2.") var labels: String = ""
    @Option(help: "The service account the workload runs as: its identity is spiffe://<trust domain>/ns/<namespace>/sa/<this>.")
    var serviceAccount: String = "default"
    @Option(help: "weft control's xDS address.") var controlPlane: String = "127.0.0.1:15010"
    @Option(help: "Address of the outbound (explicit HTTP proxy) listener.") var outbound: String?
    @Option(help: "Inbound listener LISTEN=APP[=http|http2|grpc|tcp], repeatable.") var inbound: [String] = []
    @Option(help: "Admin address.") var admin: String = "127.0.0.1:15000"
    @Option(help: "The proxy's locality, region[/zone[/subzone]], for locality-aware load balancing.") var locality: String?

    func validate() throws {
        _ = try parseLabels(labels)
        guard KubernetesName.isSubdomain(serviceAccount) else {
            throw ValidationError("--service-account: \(KubernetesName.subdomainProblem(serviceAccount))")
        }
        if let l = locality, !LocalityText.isValid(l, wildcards: false) {
            throw ValidationError("--locality: '\(l)' must be region, region/zone or region/zone/subzone")
        }
        for ib in inbound {
            do { _ = try InboundSpec(parsing: ib) } catch { throw ValidationError("--inbound: \(error.message)") }
        }
    }
}
