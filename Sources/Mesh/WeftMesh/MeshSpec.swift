import WeftCore
import WeftConfig
import WeftModel

/// A validated `mesh.yaml`: the services to start, the Istio config folder, and options.
public struct MeshSpec: Sendable, Equatable {
    public var namespace: String
    /// The folder of Istio YAML applied and watched, resolved against the mesh file's folder.
    public var configFolder: String?
    public var services: [ServiceSpec]
    public var options: MeshOptions

    public init(namespace: String = "default", configFolder: String? = nil, services: [ServiceSpec], options: MeshOptions = MeshOptions()) {
        self.namespace = namespace
        self.configFolder = configFolder
        self.services = services
        self.options = options
    }
}

/// How a process is started: a shell line (run by `/bin/sh -c`, so `$PORT` and `&&` work) or an argument vector.
public enum LaunchCommand: Sendable, Equatable {
    case shell(String)
    case argv([String])

    /// The executable and arguments to spawn; a simple shell line is `exec`ed so the app keeps the shell's pid.
    public var argv: [String] {
        switch self {
        case let .shell(line): ["/bin/sh", "-c", Self.execing(line)]
        case let .argv(a): a
        }
    }

    /// A simple line (no `;&|()` or newline) with `exec` put before its command, after any leading `NAME=value`
    /// words (`exec NAME=value cmd` would run a command named `NAME=value`). A line that already says `exec`,
    /// or whose assignments quote or expand (they may hold spaces), is left as written.
    static func execing(_ line: String) -> String {
        if line.contains(where: { ";&|()\n".contains($0) }) { return line }
        let words = line.split(whereSeparator: \.isWhitespace)
        var prefix = 0
        while prefix < words.count, let eq = words[prefix].firstIndex(of: "="), isName(words[prefix][..<eq]) {
            if words[prefix].contains(where: { "'\"`$\\".contains($0) }) { return line }
            prefix += 1
        }
        guard prefix < words.count, words[prefix] != "exec" else { return line }
        return (words[..<prefix].map(String.init) + ["exec"] + words[prefix...].map(String.init)).joined(separator: " ")
    }

    static func isName(_ s: Substring) -> Bool {
        guard let first = s.first, first == "_" || first.isASCII && first.isLetter else { return false }
        return s.allSatisfy { $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}

/// One entry of `services:`: a service (or one version of it) and how to run its processes.
public struct ServiceSpec: Sendable, Equatable {
    public var name: String
    public var version: String?
    public var command: LaunchCommand
    /// The port callers use (`http://NAME:PORT`); the sidecar's inbound listener.
    public var port: Int
    /// The port the app listens on, on the workload's own address.
    public var targetPort: Int
    public var `protocol`: String
    public var replicas: Int
    /// Labels of every workload; `app` (the name) and `version` are added when missing.
    public var labels: [String: String]
    public var env: [String: String]
    /// The workloads' service account (their SPIFFE identity); default: the service's name.
    public var serviceAccount: String

    public init(name: String, version: String? = nil, command: LaunchCommand, port: Int, targetPort: Int? = nil,
                protocol: String = "http", replicas: Int = 1, labels: [String: String] = [:], env: [String: String] = [:],
                serviceAccount: String? = nil) {
        self.serviceAccount = serviceAccount ?? name
        self.name = name
        self.version = version
        self.command = command
        self.port = port
        self.targetPort = targetPort ?? ServiceSpec.defaultTargetPort(port)
        self.protocol = `protocol`
        self.replicas = replicas
        var l = labels
        if l["app"] == nil { l["app"] = name }
        if let version, l["version"] == nil { l["version"] = version }
        self.labels = l
        self.env = env
    }

    /// The app's port when mesh.yaml gives none: the service port + 10000 (or - 10000 near the top).
    public static func defaultTargetPort(_ port: Int) -> Int { port + 10000 <= 65535 ? port + 10000 : port - 10000 }

    /// `reviews-v2`, or `reviews` without a version.
    public var deploymentName: String { version.map { "\(name)-\($0)" } ?? name }
}

public struct MeshOptions: Sendable, Equatable {
    /// Run on IPv6 loopback only.
    public var ipv6: Bool
    /// The embedded control plane's xDS and API addresses (defaults: 127.0.0.1 or [::1], ports 15010 and 15014).
    public var xds: HostPort?
    public var api: HostPort?
    /// Restart backoff: first delay and cap, in seconds.
    public var restartInitial: Double
    public var restartMax: Double
    /// Registration TTL; heartbeats go every third of it.
    public var ttlSeconds: Double
    /// Whether the sidecars' own logs are streamed too (they always go to the log folder).
    public var proxyLogs: Bool
    /// Limits of every sidecar's listeners (the embedded control plane's `--limits`).
    public var limits = ListenerLimits.standard
    /// Istio MeshConfig telemetry settings (access log providers, tracing) for the embedded control plane.
    public var meshTelemetry = MeshTelemetryConfig.standard

    public init(ipv6: Bool = false, xds: HostPort? = nil, api: HostPort? = nil, restartInitial: Double = 0.5,
                restartMax: Double = 30, ttlSeconds: Double = 10, proxyLogs: Bool = false) {
        self.ipv6 = ipv6
        self.xds = xds
        self.api = api
        self.restartInitial = restartInitial
        self.restartMax = restartMax
        self.ttlSeconds = ttlSeconds
        self.proxyLogs = proxyLogs
    }
}
