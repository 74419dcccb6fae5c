import ArgumentParser
import Logging
import NIOCore
import WeftCore
import WeftProxy
import XDSServer

struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run weft proxy, the SwiftNIO sidecar: reads xDS from weft control and proxies HTTP/1, HTTP/2, gRPC and TCP."
    )

    @Option(help: "Node id, unique per proxy.") var node: String
    @Option(help: "The proxy's namespace.") var namespace: String = "default"
    @Option(help: "The proxy's labels, k=v,k2=v2.") var labels: String = ""
    @Option(help: "weft control's xDS address.") var controlPlane: String = "127.0.0.1:15010"
    @Option(help: "Address of the outbound (explicit HTTP proxy) listener.") var outbound: String?
    @Option(help: "Inbound listener LISTEN=APP[=http|http2|grpc|tcp], repeatable.") var inbound: [String] = []
    @Option(help: "Admin address (/ready, /config_dump, /stats/prometheus, /clusters).") var admin: String = "127.0.0.1:15000"
    @Option(help: "Worker event loops (like Envoy's --concurrency).") var concurrency: Int = System.coreCount
    @Option(help: "Seconds to let requests in flight finish after SIGTERM.") var drainSeconds: Double = 5

    func run() async throws {
        let labelMap = try parseLabels(labels)
        for ib in inbound {
            do { _ = try NodeDecoder.parseInbound(ib) } catch { throw ValidationError("--inbound: \(error.message)") }
        }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        let settings = ProxySettings(
            node: node, namespace: namespace, labels: labelMap,
            controlPlane: try parseAddress(controlPlane, flag: "--control-plane"),
            outbound: try outbound.map { try parseAddress($0, flag: "--outbound") }, inbound: inbound,
            admin: try parseAddress(admin, flag: "--admin"), concurrency: concurrency, drainSeconds: drainSeconds,
            addresses: EnvoyBootstrapCommand.hostAddresses()
        )
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var log = Logger(label: "weft.proxy")
        log.logLevel = .info
        let logger = log
        try await withSignalCancellation { try await ProxyServer(settings: settings, logger: logger).run() }
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
