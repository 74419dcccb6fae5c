import Foundation
import WeftCore
import WeftHTTPClient

/// What `weft demo` prints once the shop is up, and the `--once` walk-through: each recipe applied in turn,
/// with the answers counted through the mesh.
struct DemoWalkthrough {
    let url: String
    let api: APIClient
    let recipes: URL

    static func banner(url: String, api: HostPort, recipes: String, load: Bool) -> String {
        let apply = "weft apply --server \(api) -f \(recipes)"
        return """

        The Weft demo shop is up. Front page: \(url)   (as the user jason: \(url)?user=jason, JSON: \(url)api)
        Live dashboard (service graph, rates, errors, latency): \(MeshTable.dashboardURL(api: api))
        Every call between services goes through their weft proxy sidecars\(load ? "; loadgen sends 5 requests a second" : "").

        Try, in another terminal:
          # services, versions, proxies' sync state, routes in effect
          weft status --server \(api)
          # canary: 10% of reviews to v3 (red stars)
          \(apply)/canary-10.yaml
          # header routing: the user jason on reviews v2 (black stars)
          \(apply)/header-jason.yaml
          # fault injection: half of the calls to ratings fail
          \(apply)/fault-ratings.yaml
          # rollback: everyone on reviews v1, and the ratings drill ended
          \(apply)/rollback.yaml && weft delete vs ratings --server \(api)

        """
    }

    func run() async {
        step("front page through the mesh")
        if let r = try? await HTTPClient.get(url, timeout: .seconds(5)) {
            say("GET \(url): HTTP \(r.status), \(r.body.count) bytes, \(r.body.contains("The Comedy of Errors") ? "the shop's page" : "not the shop's page")")
        } else {
            say("GET \(url): no answer")
        }
        say("20 requests: reviews \(await tally(20))")
        await recipe("canary-10.yaml", "canary: 10% of reviews to v3")
        say("200 requests: reviews \(await tally(200))")
        await recipe("header-jason.yaml", "header routing: jason on v2")
        say("as jason: reviews \(await tally(10, user: "jason")); anonymous: reviews \(await tally(10))")
        await recipe("fault-ratings.yaml", "fault injection: 50% of calls to ratings fail")
        say("as jason (v2 calls ratings), 40 requests: \(await ratingsOutcomes(40))")
        await recipe("rollback.yaml", "rollback")
        _ = try? await api.call("DELETE", "/api/v1/resources/VirtualService/default/ratings")
        say("as jason: reviews \(await tally(10, user: "jason"))")
        step("done; stopping the mesh")
    }

    func recipe(_ file: String, _ title: String) async {
        step("\(title): weft apply -f recipes/\(file)")
        let text = (try? String(contentsOf: recipes.appendingPathComponent(file), encoding: .utf8)) ?? ""
        let reply = try? await api.call("POST", "/api/v1/apply", body: text, headers: ["X-Weft-Source": file])
        say(reply?.status == 200 ? "applied" : "refused: \(reply.map { APIClient.errorLines($0).joined(separator: "; ") } ?? "no answer")")
        try? await Task.sleep(for: .milliseconds(500))
    }

    /// Which reviews version answered n front-page requests.
    func tally(_ n: Int, user: String? = nil) async -> String {
        var seen: [String: Int] = [:]
        for _ in 0..<n {
            let body = await front(user: user)
            let v = (body?["reviews"] as? [String: Any])?["version"] as? String ?? "error"
            seen[v, default: 0] += 1
        }
        return seen.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    func ratingsOutcomes(_ n: Int) async -> String {
        var ok = 0, failed = 0
        for _ in 0..<n {
            let ratings = ((await front(user: "jason"))?["reviews"] as? [String: Any])?["ratings"] as? [String: Any]
            if ratings?["error"] == nil && ratings != nil { ok += 1 } else { failed += 1 }
        }
        return "ratings shown \(ok), ratings unavailable \(failed)"
    }

    func front(user: String?) async -> [String: Any]? {
        let headers = user.map { [("end-user", $0)] } ?? []
        guard let r = try? await HTTPClient.get(url + "api", headers: headers, timeout: .seconds(5)) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any]
    }

    func step(_ title: String) { say("\n== \(title)") }
    func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
}
