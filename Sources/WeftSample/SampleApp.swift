// WeftSample: the demo shop's services (front page, details, reviews v1/v2/v3, ratings, load generator), on
// WeftHTTPServer and WeftHTTPClient. `weft sample ROLE` runs one (so `weft demo` needs the `weft` binary alone);
// the `weft-sample ROLE` executable is the same, for mesh files written before. It knows nothing of Weft's
// internals: like any app on the mesh, it reads its environment and calls through HTTP_PROXY.
//   front    the front page (HTML at /, JSON at /api); calls details and reviews through its sidecar
//   details  a book's details
//   reviews  v1: reviews only; v2: with black star ratings; v3: with red star ratings (v2 and v3 call ratings)
//   ratings  star ratings
//   loadgen  steady traffic to the front page (WEFT_LOAD_URL, WEFT_LOAD_RPS), with a summary every 10 s
// Each service listens on WEFT_LISTEN (or 127.0.0.1:$PORT) and reaches the others through HTTP_PROXY.
import Foundation
import NIOPosix
import WeftHTTPServer

public enum SampleApp {
    public static let roles = ["front", "details", "reviews", "ratings", "loadgen"]

    /// Runs `role` until the process is stopped; returns an exit code when it cannot run.
    public static func run(role: String) async -> Int32 {
        guard let handler = role == "loadgen" ? Roles.health : Roles.handler(for: role) else {
            FileHandle.standardError.write(Data("usage: weft sample \(roles.joined(separator: "|"))\n".utf8))
            return 2
        }
        let env = SampleEnv()
        do {
            // Every role listens (the load generator only for /health), so the mesh sees it start.
            let channel = try await HTTPAPIServer(group: MultiThreadedEventLoopGroup.singleton, handler: handler).bind(env.listen)
            say("\(env.service) \(env.version) listening on \(env.listen), calls go through \(env.proxy.map { "\($0)" } ?? "no proxy")")
            if role == "loadgen" { await LoadGenerator(env: env).run() }
            try await channel.closeFuture.get()
            return 0
        } catch {
            FileHandle.standardError.write(Data("weft sample \(role): \(error)\n".utf8))
            return 1
        }
    }
}
