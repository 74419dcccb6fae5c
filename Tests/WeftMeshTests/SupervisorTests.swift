import Foundation
import Testing
@testable import WeftMesh

/// Real processes, short-lived: the supervisor's promises (group stop, exit status, logs, restarts).
@Suite struct SupervisorTests {
    let logs = FileManager.default.temporaryDirectory.appendingPathComponent("weft-mesh-tests-\(UUID().uuidString)").path

    @Test(.timeLimit(.minutes(1))) func stopReachesEveryProcessOfTheGroup() async throws {
        let printer = LogPrinter(folder: logs)
        let fd = try printer.output(for: "group", stream: false)
        // The shell starts a grandchild in the background and reports its pid, then waits.
        let child = try ChildProcess.spawn(Launch(argv: ["/bin/sh", "-c", "sleep 30 & echo $! > \(logs)/bg.pid; wait"],
                                                  environment: ["PATH": "/usr/bin:/bin"]), outputFD: fd)
        close(fd)
        // Polls for the events themselves (the pid file written, the grandchild gone); the time limit is the deadline.
        var bg: Int32 = 0
        while bg == 0 {
            bg = Int32((try? String(contentsOfFile: "\(logs)/bg.pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            if bg == 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(kill(bg, 0) == 0)
        let status = await child.stop(grace: .seconds(2))
        #expect(status == .signalled(SIGTERM))
        while !Self.isGone(bg) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(Self.isGone(bg), "the background sleep is gone too")
    }

    /// Gone or a zombie: the process no longer runs.
    static func isGone(_ pid: Int32) -> Bool {
        let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        guard let state = stat?.split(separator: ")").last?.split(separator: " ").first else { return true }
        return state == "Z"
    }

    @Test(.timeLimit(.minutes(1))) func restartsWithBackoffAndKeepsTheLog() async throws {
        let printer = LogPrinter(folder: logs)
        let p = SupervisedProcess(name: "flaky", launch: Launch(argv: ["/bin/sh", "-c", "echo run; exit 3"], environment: [:]),
                                  printer: printer, stream: false, backoff: Backoff(initial: 0.02, max: 0.05))
        // Each end is an event this test waits for: the third one ends the wait, however busy the machine is.
        let (ends, feed) = AsyncStream.makeStream(of: WeftMesh.ExitStatus.self)
        let run = Task { await p.run(ended: { status in feed.yield(status) }) }
        var seen: [WeftMesh.ExitStatus] = []
        for await status in ends {
            seen.append(status)
            if seen.count == 3 { break }
        }
        await p.stop()
        await run.value
        #expect(seen == Array(repeating: WeftMesh.ExitStatus.exited(3), count: 3))
        #expect(p.starts >= 3)
        // Each run wrote its line to the log file itself before it exited.
        let log = try String(contentsOfFile: "\(logs)/flaky.log", encoding: .utf8)
        #expect(log.components(separatedBy: "run\n").count - 1 >= 3)
    }

    @Test func anExitWithZeroEndsARunThatDoesNotRestartAfterSuccess() async {
        let p = SupervisedProcess(name: "job", launch: Launch(argv: ["/bin/true"], environment: [:]), printer: LogPrinter(folder: nil),
                                  stream: false, backoff: Backoff(initial: 0.01, max: 0.01), restartAfterSuccess: false)
        await p.run()
        #expect(p.starts == 1)
    }
}
