import Foundation

/// The weft CLI's config file, as kubectl has its kubeconfig: the API address of each control plane this user
/// talks to, with its token, and the current one. `weft control` records itself here when it starts (as
/// minikube writes a kubeconfig context), so the user who started it runs `weft apply`, `get` and `status` with
/// no extra flag. The file is `$WEFT_CONFIG`, else `~/.weft/config.json`; it is written 0600.
public struct CLIConfigFile: Codable, Sendable, Equatable {
    public struct Server: Codable, Sendable, Equatable {
        public var token: String
        /// When it was recorded (the newest 64 servers are kept).
        public var recordedAt: Double
        /// SHA-256 of the mesh root, to check the API's certificate when it serves HTTPS.
        public var ca: String?
    }
    public var current: String?
    public var servers: [String: Server] = [:]

    public init() {}

    public static var path: String {
        if let p = ProcessInfo.processInfo.environment["WEFT_CONFIG"], !p.isEmpty { return p }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".weft/config.json")
    }

    public static func load(from path: String = CLIConfigFile.path) -> CLIConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else { return CLIConfigFile() }
        return (try? JSONDecoder().decode(CLIConfigFile.self, from: data)) ?? CLIConfigFile()
    }

    /// The token for `server` (as `host:port`).
    public func token(for server: String) -> String? { servers[server]?.token }

    /// Records `server` and its token as the current control plane, keeping the newest 64 entries.
    public static func record(server: String, token: String, now: Double, rootFingerprint: String? = nil,
                              path: String = CLIConfigFile.path) throws {
        var c = load(from: path)
        c.servers[server] = Server(token: token, recordedAt: now, ca: rootFingerprint)
        c.current = server
        if c.servers.count > 64 {
            for (k, _) in c.servers.sorted(by: { $0.value.recordedAt < $1.value.recordedAt }).prefix(c.servers.count - 64) {
                c.servers[k] = nil
            }
        }
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let tmp = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: try encoder.encode(c), attributes: [.posixPermissions: 0o600]) else {
            throw Diagnostic(file: path, message: "cannot write the CLI config")
        }
        guard rename(tmp, path) == 0 else { throw Diagnostic(file: path, message: "cannot replace the CLI config") }
    }
}
