import Foundation
import WeftHTTPClient

/// Steady traffic to the front page through the sidecar, with a one-line summary every 10 seconds:
/// answers by status and which reviews versions served them.
struct LoadGenerator {
    let env: SampleEnv

    func run() async {
        let e = ProcessInfo.processInfo.environment
        let url = e["WEFT_LOAD_URL"] ?? "http://front:9080/api"
        let rps = max(0.1, Double(e["WEFT_LOAD_RPS"] ?? "") ?? 5)
        let users = (e["WEFT_LOAD_USERS"] ?? ",,,,jason").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        say("loadgen: \(rps) requests/s to \(url) through \(env.proxy.map { "\($0)" } ?? "no proxy")")
        await waitForFirstAnswer(url)
        var statuses: [String: Int] = [:]
        var versions: [String: Int] = [:]
        var n = 0
        var last = ContinuousClock.now
        while true {
            let user = users.isEmpty ? "" : users[n % users.count]
            n += 1
            do {
                let r = try await HTTPClient.get(url, headers: user.isEmpty ? [] : [("end-user", user)], proxy: env.proxy, timeout: .seconds(5))
                statuses["\(r.status)", default: 0] += 1
                let reviews = SampleEnv.parse(r.body)?["reviews"] as? [String: Any]
                versions[(reviews?["version"] as? String) ?? "none", default: 0] += 1
            } catch {
                statuses["error", default: 0] += 1
            }
            if ContinuousClock.now - last >= .seconds(10) {
                last = ContinuousClock.now
                func show(_ d: [String: Int]) -> String { d.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
                say("loadgen: last 10s: HTTP \(show(statuses)); reviews \(show(versions))")
                statuses = [:]
                versions = [:]
            }
            try? await Task.sleep(for: .milliseconds(Int(1000 / rps)))
        }
    }

    /// The mesh may still be coming up: wait (up to a minute) for a first 200 before counting.
    func waitForFirstAnswer(_ url: String) async {
        for _ in 0..<300 {
            if let r = try? await HTTPClient.get(url, proxy: env.proxy, timeout: .seconds(2)), r.status == 200 { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
