import Foundation
import WeftHTTPServer

/// The shop's front page: asks details and reviews (through the sidecar) and shows who answered.
struct FrontPage {
    let env: SampleEnv

    func answer(_ req: APIRequest) async -> APIResponse {
        if req.path == "/health" { return await Roles.health(req) }
        var r = req
        if let user = req.query["user"], !user.isEmpty { r.headers.replaceOrAdd(name: "end-user", value: user) }
        async let details = env.call("http://details:9080/details/1", from: r)
        async let reviews = env.call("http://reviews:9080/reviews/1", from: r)
        let (d, v) = await (details, reviews)
        let user = r.headers.first(name: "end-user") ?? ""
        if req.path.hasPrefix("/api") { return env.json(["user": user, "details": d, "reviews": v]) }
        return APIResponse(status: .ok, body: html(user: user, details: d, reviews: v), contentType: "text/html; charset=utf-8")
    }

    func html(user: String, details d: [String: Any], reviews v: [String: Any]) -> String {
        let info = (d["details"] as? [String: Any]) ?? [:]
        var rows = ""
        for (k, val) in info.sorted(by: { $0.key < $1.key }) { rows += "<tr><th>\(esc(k))</th><td>\(esc("\(val)"))</td></tr>" }
        if let e = d["error"] { rows = "<tr><td>details are unavailable: \(esc("\(e)"))</td></tr>" }
        var reviews = ""
        let stars = ((v["ratings"] as? [String: Any])?["ratings"] as? [String: Any]) ?? [:]
        for item in (v["reviews"] as? [[String: Any]]) ?? [] {
            let who = item["reviewer"] as? String ?? ""
            var line = "<blockquote><p>\(esc(item["text"] as? String ?? ""))</p><small>\(esc(who))</small>"
            if let n = stars[who] as? Int {
                line += " <span style=\"color:\(v["stars"] as? String ?? "black")\">\(String(repeating: "★", count: n))\(String(repeating: "☆", count: 5 - n))</span>"
            } else if v["ratings"] != nil {
                line += " <em>ratings are unavailable</em>"
            }
            reviews += line + "</blockquote>"
        }
        if let e = v["error"] { reviews = "<p>reviews are unavailable: \(esc("\(e)"))</p>" }
        let served = "front \(env.version) · details \(d["version"] as? String ?? "-") · reviews \(v["version"] as? String ?? "-")"
            + ((v["ratings"] as? [String: Any])?["version"].map { " · ratings \($0)" } ?? "")
        return """
        <!doctype html><html><head><meta charset="utf-8"><title>Weft sample shop</title>
        <style>body{font-family:sans-serif;max-width:46em;margin:2em auto}th{text-align:left;padding-right:1em}
        footer{color:#666;margin-top:2em}</style></head><body>
        <h1>The Comedy of Errors</h1>
        <p>\(user.isEmpty ? "Browsing anonymously · <a href=\"/?user=jason\">sign in as jason</a>" : "Signed in as <b>\(esc(user))</b> · <a href=\"/\">sign out</a>")</p>
        <h2>Details</h2><table>\(rows)</table>
        <h2>Reviews</h2>\(reviews)
        <footer>served by \(esc(served)) through Weft sidecars · <a href="/api">JSON</a></footer>
        </body></html>
        """
    }

    func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
