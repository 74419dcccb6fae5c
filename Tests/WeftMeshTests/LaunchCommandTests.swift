import Foundation
import Testing
@testable import WeftMesh

/// How a `command:` shell line of mesh.yaml is run: simple lines are exec'ed (the app keeps the shell's pid),
/// whether or not the user already wrote `exec`.
@Suite struct LaunchCommandTests {
    @Test(arguments: [
        ("python3 app.py", "exec python3 app.py"),
        ("exec python3 app.py", "exec python3 app.py"),
        ("  exec   python3 app.py", "  exec   python3 app.py"),
        ("PORT=9080 python3 app.py", "PORT=9080 exec python3 app.py"),
        ("A=1 B_2=x exec ./app", "A=1 B_2=x exec ./app"),
        ("GREETING='hi there' ./app", "GREETING='hi there' ./app"),
        ("cd /srv && ./app", "cd /srv && ./app"),
        ("./app --flag=value", "exec ./app --flag=value"),
        ("executable --x", "exec executable --x"),
    ])
    func shellLines(line: String, run: String) {
        #expect(LaunchCommand.shell(line).argv == ["/bin/sh", "-c", run])
    }

    @Test(.timeLimit(.minutes(1)), arguments: ["sh -c 'echo $$' > PIDFILE", "exec sh -c 'echo $$' > PIDFILE"])
    func aLineWithOrWithoutExecRunsAndKeepsThePid(template: String) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weft-launch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // The inner shell prints its own pid: the spawned child's only when the line was exec'ed.
        let line = template.replacingOccurrences(of: "PIDFILE", with: "\(dir)/pid")
        let child = try ChildProcess.spawn(Launch(argv: LaunchCommand.shell(line).argv, environment: ["PATH": "/usr/bin:/bin"]),
                                           outputFD: 2)
        let status = await child.wait()
        #expect(status == .exited(0), "'\(line)' must run, not fail with 'exec: exec: not found'")
        let pid = try String(contentsOfFile: "\(dir)/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(pid == String(child.pid), "the shell's pid is the app's")
    }
}
