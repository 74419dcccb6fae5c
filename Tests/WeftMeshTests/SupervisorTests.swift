import Foundation
import Testing
@testable import WeftMesh

/// Real processes, short-lived: the supervisor's promises (group stop, exit status, logs, restarts).
@Suite struct SupervisorTests {
    let logs = FileManager.default.temporaryDirectory.appendingPathComponent("weft-mesh-tests-\(UUID().uuidString)").path

    @Test func stopReachesEveryProcessOfTheGroup() async throws {
        let printer = LogPrinter(folder: logs)
        let fd = try printer.output(for: "group", stream: false)
        // The shell starts a grandchild in the background and reports its pid, then waits.
        let child = try ChildProcess.spawn(Launch(argv: ["/bin/sh", "-c", "sleep 30 & echo $! > \(logs)/bg.pid; wait"],
                                                  environment: ["PATH": "/usr/bin:/bin"]), outputFD: fd)
        close(fd)
        var bg: Int32 = 0
        for _ in 0..<100 where bg == 0 {
            bg = Int32((try? String(contentsOfFile: "\(logs)/bg.pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(bg > 0 && kill(bg, 0) == 0)
        let status = await child.stop(grace: .seconds(2))
        #expect(status == .signalled(SIGTERM))
        try await Task.sleep(for: .milliseconds(100))
        let state = (try? String(contentsOfFile: "/proc/\(bg)/stat", encoding: .utf8))?.split(separator: ")").last?.split(separator: " ").first
        #expect(state == nil || state == "Z", "the background sleep is gone too")
    }

    @Test func restartsWithBackoffAndKeepsTheLog() async throws {
        let printer = LogPrinter(folder: logs)
        let p = SupervisedProcess(name: "flaky", launch: Launch(argv: ["/bin/sh", "-c", "echo run; exit 3"], environment: [:]),
                                  printer: printer, stream: false, backoff: Backoff(initial: 0.02, max: 0.05))
        let ends = Counter()
        let run = Task { await p.run(ended: { status in if status == .exited(3) { ends.add() } }) }
        for _ in 0..<200 where p.starts < 3 { try await Task.sleep(for: .milliseconds(10)) }
        await p.stop()
        await run.value
        #expect(p.starts >= 3 && ends.value >= 3)
        try await Task.sleep(for: .milliseconds(100))
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

final class Counter: @unchecked Sendable {
    let lock = NSLock()
    var n = 0
    var value: Int { lock.withLock { n } }
    func add() { lock.withLock { n += 1 } }
}
