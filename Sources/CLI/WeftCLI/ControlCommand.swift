import ArgumentParser
import Foundation
import Logging
import NIOPosix
import WeftControl
import WeftCore
import WeftConfig
import WeftModel

struct ControlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "Run the control plane: load and watch config, keep the registry, serve xDS and the API."
    )

    @Option(help: "Folder of Istio YAML/JSON files to load and watch.") var config: String?
    @Option(help: "Folder where applied resources and registrations are stored.") var data: String = ".weft-data"
    @Option(help: "xDS (ADS gRPC) listen address.") var xds: String = "127.0.0.1:15010"
    @Option(help: "HTTP API listen address.") var api: String = "127.0.0.1:15014"
    @Option(help: "Debounce before pushing a change, in milliseconds.") var debounceMs: Int = 100
    @Option(help: "Largest API request body, in bytes (larger ones get 413).") var maxRequestBytes: Int = ControlPlaneConfig.defaultMaxRequestBytes
    @Option(help: "YAML file of listener limits for every proxy (docs/HARDENING.md); defaults for what it leaves out.") var limits: String?
    @Option(help: "Istio MeshConfig YAML with telemetry settings: extensionProviders, defaultProviders, accessLogFile, accessLogEncoding, enableTracing, defaultConfig.tracing.sampling (docs/observability.md).")
    var meshConfig: String?
    @Option(help: "How often the key sets of RequestAuthentication jwksUri are fetched again (a duration such as 20m or 30s).")
    var jwksRefresh: String = "20m"
    @Option(help: "How often the proxies' metrics are read for the service graph (weft top, weft metrics, the dashboard); 0 turns it off.")
    var metricsInterval: String = "5s"
    @OptionGroup var security: SecurityOptions

    func run() async throws {
        let xdsAddress = try parseAddress(xds, flag: "--xds")
        let apiAddress = try parseAddress(api, flag: "--api")
        if let config {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: config, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("--config: '\(config)' is not a folder")
            }
        }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "weft.control")
        logger.logLevel = .info
        guard maxRequestBytes >= 1024 else { throw ValidationError("--max-request-bytes: must be at least 1024, got \(maxRequestBytes)") }
        var settings = ControlPlaneConfig(
            configDirectory: config.map { URL(fileURLWithPath: $0) }, dataDirectory: URL(fileURLWithPath: data),
            xds: xdsAddress, api: apiAddress, debounce: .milliseconds(max(0, debounceMs))
        )
        settings.maxRequestBytes = maxRequestBytes
        switch ConfigDuration.parse(jwksRefresh) {
        case let .success(n) where n >= 1_000_000: settings.jwksRefresh = .nanoseconds(n)
        case .success: throw ValidationError("--jwks-refresh: must be at least 1ms, got '\(jwksRefresh)'")
        case let .failure(p): throw ValidationError("--jwks-refresh: " + ConfigDuration.message(jwksRefresh, p))
        }
        switch metricsInterval == "0" ? .success(0) : ConfigDuration.parse(metricsInterval) {
        case .success(0): settings.metricsInterval = nil
        case let .success(n) where n >= 100_000_000: settings.metricsInterval = .nanoseconds(n)
        case .success: throw ValidationError("--metrics-interval: must be 0 (off) or at least 100ms, got '\(metricsInterval)'")
        case let .failure(p): throw ValidationError("--metrics-interval: " + ConfigDuration.message(metricsInterval, p))
        }
        if let limits { settings.limits = try Self.readLimits(limits) }
        if let meshConfig { settings.meshTelemetry = try Self.readMeshConfig(meshConfig) }
        settings.security = try security.settings()
        let plane = ControlPlane(config: settings, logger: logger, clock: SystemWallClock(), group: MultiThreadedEventLoopGroup.singleton)
        try await withSignalCancellation { try await plane.run() }
    }
}

extension ControlCommand {
    static func readLimits(_ path: String) throws -> ListenerLimits {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("--limits: cannot read '\(path)'")
        }
        do { return try ListenerLimits.decode(text: text, file: path) } catch {
            throw ValidationError("--limits: " + error.diagnostics.map(\.description).joined(separator: "\n"))
        }
    }
}

extension ControlCommand {
    static func readMeshConfig(_ path: String) throws -> MeshTelemetryConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("--mesh-config: cannot read '\(path)'")
        }
        do { return try MeshTelemetryConfig.decode(text: text, file: path) } catch {
            throw ValidationError("--mesh-config: " + error.diagnostics.map(\.description).joined(separator: "\n"))
        }
    }
}

/// Runs `body` until it ends or SIGTERM/SIGINT arrives, then cancels it so it can shut down in order.
func withSignalCancellation(_ body: @escaping @Sendable () async throws -> Void) async throws {
    let task = Task { try await body() }
    let sources = [SIGTERM, SIGINT].map { sig -> DispatchSourceSignal in
        signal(sig, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        s.setEventHandler { task.cancel() }
        s.resume()
        return s
    }
    defer { sources.forEach { $0.cancel() } }
    do {
        try await task.value
    } catch is CancellationError {
    }
}
