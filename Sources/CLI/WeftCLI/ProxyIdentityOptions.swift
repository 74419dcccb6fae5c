import ArgumentParser
import Foundation
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
    @Option(help: "Join token for this namespace and service account (weft token create; default: $WEFT_JOIN_TOKEN). Without it and --ca-cert, xDS is plaintext, which only weft control --insecure takes.")
    var token: String?
    @Option(help: "The mesh root certificate (PEM) to trust the control plane by; default: the root whose fingerprint the token carries.")
    var caCert: String?

    /// `--token`, else `$WEFT_JOIN_TOKEN`.
    var joinToken: String? {
        let t = token ?? ProcessInfo.processInfo.environment["WEFT_JOIN_TOKEN"]
        return t.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The contents of `--ca-cert`.
    func rootPEM() throws -> String? {
        guard let caCert else { return nil }
        guard let text = FileManager.default.contents(atPath: caCert).flatMap({ String(data: $0, encoding: .utf8) }),
              text.contains("-----BEGIN CERTIFICATE-----") else {
            throw ValidationError("--ca-cert: '\(caCert)' is not a readable PEM certificate file")
        }
        return text
    }

    func validate() throws {
        _ = try parseLabels(labels)
        guard KubernetesName.isSubdomain(serviceAccount) else {
            throw ValidationError("--service-account: \(KubernetesName.subdomainProblem(serviceAccount))")
        }
        if let l = locality, !LocalityText.isValid(l, wildcards: false) {
            throw ValidationError("--locality: '\(l)' must be region, region/zone or region/zone/subzone")
        }
        if let t = joinToken {
            guard let hint = JoinTokenHint(token: t) else { throw ValidationError("--token: not a Weft token (want weft.<claims>.<signature>)") }
            if let exp = hint.expiresAt, exp <= Date().timeIntervalSince1970 {
                throw ValidationError("--token: the token expired at \(Date(timeIntervalSince1970: exp)); issue a new one with weft token create")
            }
            if let ns = hint.namespace, ns != namespace {
                throw ValidationError("--token: the token is for namespace \(ns), not --namespace \(namespace)")
            }
            if let sa = hint.serviceAccount, sa != serviceAccount {
                throw ValidationError("--token: the token is for service account \(sa), not --service-account \(serviceAccount)")
            }
        }
        _ = try rootPEM()
        for ib in inbound {
            do { _ = try InboundSpec(parsing: ib) } catch { throw ValidationError("--inbound: \(error.message)") }
        }
    }
}
