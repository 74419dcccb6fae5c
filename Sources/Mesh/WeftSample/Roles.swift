import Foundation
import WeftHTTPServer

/// The request handlers of the sample services.
enum Roles {
    static let health: HTTPAPIServer.Handler = { _ in APIResponse(status: .ok, body: "ok\n", contentType: "text/plain") }

    static func handler(for role: String) -> HTTPAPIServer.Handler? {
        let env = SampleEnv()
        switch role {
        case "front": return { req in await FrontPage(env: env).answer(req) }
        case "details": return { req in
            guard req.path != "/health" else { return await health(req) }
            return env.json(["details": ["title": "The Comedy of Errors", "author": "William Shakespeare", "year": 1595,
                                         "pages": 200, "publisher": "PublisherA", "language": "English"]])
        }
        case "reviews": return { req in
            guard req.path != "/health" else { return await health(req) }
            var body: [String: Any] = ["reviews": [
                ["reviewer": "Reviewer1", "text": "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"],
                ["reviewer": "Reviewer2", "text": "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."],
            ]]
            if env.version != "v1" {
                body["ratings"] = await env.call("http://ratings:9080/ratings/1", from: req)
                body["stars"] = env.version == "v2" ? "black" : "red"
            }
            return env.json(body)
        }
        case "ratings": return { req in
            guard req.path != "/health" else { return await health(req) }
            return env.json(["ratings": ["Reviewer1": 5, "Reviewer2": 4]])
        }
        default: return nil
        }
    }
}
