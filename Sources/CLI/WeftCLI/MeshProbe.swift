import WeftCore
import WeftHTTPClient
import WeftMesh

/// Waits until every sidecar routes to every HTTP service of the mesh (its answer is not a local
/// "no route" / "no healthy upstream" of the sidecar), so the mesh is announced only once it works.
enum MeshProbe {
    static let notYet: Set<String> = ["NR", "NC", "UH"]

    /// The calls (caller's outbound, service URL) still not routed after `timeout`; empty when all are.
    static func waitRouted(_ plans: [WorkloadPlan], timeout: Duration = .seconds(15)) async -> [String] {
        var services: [String: Int] = [:]
        for p in plans { for s in p.services where s.protocol != "tcp" { services[s.name] = s.port } }
        var pending = plans.flatMap { p in services.sorted { $0.key < $1.key }.map { (p.outbound, "http://\($0.key):\($0.value)/health") } }
        let deadline = ContinuousClock.now + timeout
        while !pending.isEmpty && ContinuousClock.now < deadline {
            var still: [(HostPort, String)] = []
            for (proxy, url) in pending {
                let r = try? await HTTPClient.get(url, proxy: proxy, timeout: .seconds(2))
                if r == nil || r.flatMap({ $0.header("x-weft-response-flags") }).map(notYet.contains) == true { still.append((proxy, url)) }
            }
            pending = still
            if !pending.isEmpty { try? await Task.sleep(for: .milliseconds(100)) }
        }
        return pending.map { "\($0.1) via \($0.0)" }
    }
}
