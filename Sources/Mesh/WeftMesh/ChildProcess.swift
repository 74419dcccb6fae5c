#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// How a child ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    init(raw: Int32) {
        self = raw & 0x7f == 0 ? .exited((raw >> 8) & 0xff) : .signalled(raw & 0x7f)
    }

    public var description: String {
        switch self {
        case let .exited(code): "exit code \(code)"
        case let .signalled(sig): "killed by signal \(sig)"
        }
    }
}

/// What to start: an executable (found on the given PATH when it has no '/'), its arguments and environment.
public struct Launch: Sendable {
    public var argv: [String]
    public var environment: [String: String]

    public init(argv: [String], environment: [String: String]) {
        self.argv = argv
        self.environment = environment
    }
}

public struct SpawnError: Error, CustomStringConvertible {
    public var description: String
}

/// A child in its own process group (so a stop reaches everything it started), its output on a pipe.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    let status = Mutex<ExitStatus?>(nil)

    /// Starts `launch`; stdin is /dev/null, stdout and stderr go to `outputFD` (closed in the child otherwise).
    public static func spawn(_ launch: Launch, outputFD: Int32) throws -> ChildProcess {
        guard let first = launch.argv.first else { throw SpawnError(description: "empty command") }
        guard let path = resolve(first, searchPath: launch.environment["PATH"] ?? "/usr/bin:/bin") else {
            throw SpawnError(description: "\(first): command not found")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attr, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        let args = launch.argv.map { strdup($0) } + [nil]
        let env = launch.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (args + env).forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, &attr, args, env)
        guard rc == 0 else { throw SpawnError(description: "\(path): \(String(cString: strerror(rc)))") }
        return ChildProcess(pid: pid)
    }

    init(pid: pid_t) { self.pid = pid }

    /// The exit status once the child ended (reaps it); nil while it runs.
    public func poll() -> ExitStatus? {
        status.withLock { s in
            if let s { return s }
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid { s = ExitStatus(raw: raw) } else if r < 0 && errno == ECHILD { s = .exited(-1) }
            return s
        }
    }

    /// Waits for the end of the child, checking every 50 ms.
    public func wait() async -> ExitStatus {
        while true {
            if let s = poll() { return s }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `signal` to the child's whole process group.
    public func signalGroup(_ signal: Int32) { _ = kill(-pid, signal) }

    /// SIGTERM to the group, SIGKILL after `grace`, then SIGKILL again for anything the group left behind.
    public func stop(grace: Duration) async -> ExitStatus {
        signalGroup(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while poll() == nil && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        signalGroup(SIGKILL)
        let s = await wait()
        signalGroup(SIGKILL)
        return s
    }

    /// `name` itself when it holds a '/', else the first executable file of that name on `searchPath`.
    static func resolve(_ name: String, searchPath: String) -> String? {
        if name.contains("/") { return name }
        for dir in searchPath.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
