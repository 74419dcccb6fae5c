import Foundation
import Synchronization

/// Keeps one process running: starts it, reports how it ended, restarts it with backoff until `stop()`.
public final class SupervisedProcess: Sendable {
    public let name: String
    let launch: Launch
    let printer: LogPrinter
    let stream: Bool
    let restartAfterSuccess: Bool
    let prepare: (@Sendable () async -> [String: String])?
    let state: Mutex<State>

    struct State {
        var child: ChildProcess?
        var stopping = false
        var starts = 0
        var backoff: Backoff
    }

    /// Without `restartAfterSuccess`, an exit with code 0 ends `run()` instead of restarting.
    /// `prepare` runs before each start; its variables are added to the launch environment (a sidecar's fresh
    /// join token, for example).
    public init(name: String, launch: Launch, printer: LogPrinter, stream: Bool = true, backoff: Backoff, restartAfterSuccess: Bool = true,
                prepare: (@Sendable () async -> [String: String])? = nil) {
        self.prepare = prepare
        self.restartAfterSuccess = restartAfterSuccess
        self.name = name
        self.launch = launch
        self.printer = printer
        self.stream = stream
        state = Mutex(State(backoff: backoff))
    }

    public var pid: Int32? { state.withLock { s in s.child.flatMap { $0.poll() == nil ? $0.pid : nil } } }
    public var starts: Int { state.withLock { $0.starts } }
    public var isStopping: Bool { state.withLock { $0.stopping } }

    /// Runs until `stop()`. `started` is called with each new pid, `ended` after each exit (also the last).
    public func run(started: @escaping @Sendable (Int32) async -> Void = { _ in },
                    ended: @escaping @Sendable (ExitStatus) async -> Void = { _ in }) async {
        while !isStopping {
            let began = ContinuousClock.now
            let status: ExitStatus
            var launch = self.launch
            if let prepare { launch.environment.merge(await prepare()) { _, new in new } }
            do {
                let (fd, drained) = try printer.pipe(for: name, stream: stream)
                let child: ChildProcess
                do {
                    defer { close(fd) }
                    child = try ChildProcess.spawn(launch, outputFD: fd)
                }
                let stopNow = state.withLock { s -> Bool in
                    s.child = child
                    s.starts += 1
                    return s.stopping
                }
                if stopNow { _ = await child.stop(grace: .seconds(5)) }
                await started(child.pid)
                status = await child.wait()
                child.signalGroup(SIGKILL)  // whatever the process left behind in its group
                // The run has ended once its output is all in its log (the pipe's reader is a thread of its own).
                await drained.wait(limit: .seconds(2))
            } catch {
                printer.say("\(name): cannot start: \(error)")
                status = .exited(127)
            }
            await ended(status)
            if isStopping { break }
            if status == .exited(0) && !restartAfterSuccess {
                printer.say("\(name) finished")
                break
            }
            let ran = (ContinuousClock.now - began) / .seconds(1)
            let delay = state.withLock { $0.backoff.next(ranFor: ran) }
            printer.say("\(name) ended (\(status)); restarting in \(Self.format(delay))")
            let until = ContinuousClock.now + .milliseconds(Int(delay * 1000))
            while !isStopping && ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// Stops restarting and ends the current process: SIGTERM to its group, SIGKILL after `grace`.
    public func stop(grace: Duration = .seconds(5)) async {
        let child = state.withLock { s -> ChildProcess? in
            s.stopping = true
            return s.child
        }
        guard let child, child.poll() == nil else { return }
        _ = await child.stop(grace: grace)
    }

    static func format(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int(seconds * 1000))ms" : String(format: "%.1fs", seconds)
    }
}
