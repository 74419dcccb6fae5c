import ArgumentParser
import Foundation
import WeftControl
import WeftCore

/// `weft control`'s identity flags (docs/security.md).
struct SecurityOptions: ParsableArguments {
    @Option(help: "Folder with your own CA in Istio's cacerts layout (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); default: a root Weft creates and keeps under --data.")
    var caDir: String?
    @Option(help: "Trust domain of the mesh's SPIFFE IDs.") var trustDomain: String = SpiffeID.defaultTrustDomain
    @Option(help: "Lifetime of workload certificates (e.g. 24h, 30m, 1m; at least 1m); renewed at half of it.") var certTtl: String = "24h"
    @Option(help: "Namespace whose PeerAuthentication without selector applies mesh-wide.") var rootNamespace: String = "istio-system"
    @Flag(help: "Serve the API without tokens (anyone who can reach it may change the mesh); for tests.") var insecure = false

    func settings() throws -> SecuritySettings {
        var s = SecuritySettings()
        if let caDir {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: caDir, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("--ca-dir: '\(caDir)' is not a folder")
            }
            s.caDirectory = URL(fileURLWithPath: caDir)
        }
        guard SpiffeID.isValidTrustDomain(trustDomain) else {
            throw ValidationError("--trust-domain: '\(trustDomain)' must be lower-case letters, digits, '.', '-' or '_'")
        }
        s.trustDomain = trustDomain
        guard let nanos = ConfigDuration.nanoseconds(certTtl) else {
            throw ValidationError("--cert-ttl: '\(certTtl)' is not a duration (e.g. 24h, 30m, 90s)")
        }
        guard nanos >= 60_000_000_000 else { throw ValidationError("--cert-ttl: must be at least 1m, got \(certTtl)") }
        s.certificateTTL = .nanoseconds(nanos)
        guard KubernetesName.isLabel(rootNamespace) else {
            throw ValidationError("--root-namespace: \(KubernetesName.labelProblem(rootNamespace))")
        }
        s.rootNamespace = rootNamespace
        s.insecure = insecure
        return s
    }
}
