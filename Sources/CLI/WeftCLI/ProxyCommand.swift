import ArgumentParser
import Foundation
import Logging
import NIOCore
import WeftCore
import WeftProxy

struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run weft proxy, the SwiftNIO sidecar: reads xDS from weft control and proxies HTTP/1, HTTP/2, gRPC and TCP."
    )

    @OptionGroup var id: ProxyIdentityOptions
    @Option(help: "Worker event loops (like Envoy's --concurrency).") var concurrency: Int = System.coreCount
    @Option(help: "Seconds to let requests in flight finish after SIGTERM.") var drainSeconds: Double = 5

    func run() async throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        var proxySettings = ProxySettings(
            node: id.node, namespace: id.namespace, labels: try parseLabels(id.labels),
            controlPlane: try parseAddress(id.controlPlane, flag: "--control-plane"),
            outbound: try id.outbound.map { try parseAddress($0, flag: "--outbound") }, inbound: id.inbound,
            admin: try parseAddress(id.admin, flag: "--admin"), concurrency: concurrency, drainSeconds: drainSeconds,
            addresses: EnvoyBootstrapCommand.hostAddresses(), locality: id.locality
        )
        proxySettings.serviceAccount = id.serviceAccount
        proxySettings.token = id.joinToken
        proxySettings.rootPEM = try id.rootPEM()
        let settings = proxySettings
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var log = Logger(label: "weft.proxy")
        log.logLevel = .info
        let logger = log
        Self.stopWithParent()
        try await withSignalCancellation { try await ProxyServer(settings: settings, logger: logger).run() }
    }
}

extension ProxyCommand {
    /// A sidecar started by `weft up` or `weft run` (which set WEFT_PARENT_PID) stops, as on SIGTERM, when that
    /// parent is gone, even if it was killed without a chance to stop its children.
    static func stopWithParent() {
        guard let text = ProcessInfo.processInfo.environment["WEFT_PARENT_PID"], let parent = Int32(text) else { return }
        Thread.detachNewThread {
            while getppid() == parent { usleep(500_000) }
            kill(getpid(), SIGTERM)
        }
    }
}

/// `k=v,k2=v2` into a dictionary.
func parseLabels(_ text: String) throws -> [String: String] {
    var out: [String: String] = [:]
    for pair in text.split(separator: ",") {
        let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
        guard kv.count == 2, !kv[0].isEmpty else { throw ValidationError("--labels: '\(pair)' must be key=value") }
        out[kv[0]] = kv[1]
    }
    return out
}
