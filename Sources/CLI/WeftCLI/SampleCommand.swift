import ArgumentParser
import Foundation
import WeftSample

/// `weft sample ROLE`: one of the demo shop's services, so `weft demo` and `weft up` with the shop need only the
/// `weft` binary.
struct SampleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Run one of the demo shop's services (front, details, reviews, ratings, loadgen), as `weft demo` does.",
        discussion: "It listens on $WEFT_LISTEN (or 127.0.0.1:$PORT) and calls the other services through $HTTP_PROXY."
    )

    @Argument(help: "front, details, reviews, ratings or loadgen.") var role: String

    func validate() throws {
        guard SampleApp.roles.contains(role) else {
            throw ValidationError("'\(role)' is not a role: \(SampleApp.roles.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let code = await SampleApp.run(role: role)
        if code != 0 { throw ExitCode(code) }
    }
}
