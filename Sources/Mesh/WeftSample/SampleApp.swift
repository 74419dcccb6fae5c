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
