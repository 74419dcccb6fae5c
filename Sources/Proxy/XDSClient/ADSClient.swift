import EnvoyAPI
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOPosix
import ProxyConfig
import ProxyRouting
import Synchronization
import WeftCore

/// Keeps the proxy's config in step with the control plane over one ADS stream (state of the world):
/// connects, subscribes, ACKs/NACKs, publishes each new snapshot, and reconnects with backoff forever.
public final class ADSClient: Sendable {
    let config: ADSClientConfig
    let logger: Logger
    let onSnapshot: @Sendable (ProxySnapshot) async -> Void
    let session: Mutex<ADSSession>
    let state = Mutex(ADSClientStatus())
    let group: MultiThreadedEventLoopGroup
    let connection: Connection

    /// How each stream connects: the transport security (TLS with the proxy's credential) and the call
    /// metadata (its join token until it has a certificate), asked again at every reconnect.
    public struct Connection: Sendable {
        public var security: @Sendable () throws -> HTTP2ClientTransport.Posix.TransportSecurity
        public var metadata: @Sendable () -> Metadata

        public init(security: @escaping @Sendable () throws -> HTTP2ClientTransport.Posix.TransportSecurity,
                    metadata: @escaping @Sendable () -> Metadata) {
            self.security = security
            self.metadata = metadata
        }

        /// A control plane run with `--insecure`.
        public static let plaintext = Connection(security: { .plaintext }, metadata: { [:] })
    }

    /// `onSnapshot` is called with each newly accepted snapshot (never with an empty one on disconnect), and
    /// the response is ACKed once it returns: an ACK tells the control plane the config is in force.
    /// `group` carries the gRPC connection; the proxy passes its own loops so no extra threads are started.
    public init(config: ADSClientConfig, logger: Logger, group: MultiThreadedEventLoopGroup = .singleton,
                connection: Connection = .plaintext, onSnapshot: @escaping @Sendable (ProxySnapshot) async -> Void) {
        self.group = group
        self.connection = connection
        self.config = config
        self.logger = logger
        self.onSnapshot = onSnapshot
        self.session = Mutex(ADSSession(node: config.node))
    }

    /// The connection state, for the admin page.
    public var status: ADSClientStatus { state.withLock { $0 } }

    /// Runs until the task is cancelled. The last good snapshot stays in force while disconnected.
    public func run() async {
        var delay = config.initialBackoff
        while !Task.isCancelled {
            var progressed = false
            do {
                progressed = try await stream()
                logger.warning("xDS stream ended by the control plane", metadata: ["server": "\(config.controlPlane)"])
                state.withLock { $0.lastError = "stream ended by the control plane" }
            } catch {
                if Task.isCancelled { break }
                logger.warning("xDS stream failed", metadata: ["server": "\(config.controlPlane)", "error": "\(error)"])
                state.withLock { $0.lastError = "\(error)" }
            }
            state.withLock { $0.connected = false }
            if progressed { delay = config.initialBackoff }
            let jittered = delay * Double.random(in: 0.8...1.2)
            do { try await Task.sleep(for: jittered) } catch { break }
            delay = min(delay * 2, config.maxBackoff)
        }
        state.withLock { $0.connected = false }
    }

    var target: any ResolvableTarget { Self.target(config.controlPlane) }

    /// The gRPC target for the control plane's address (IPv4, IPv6 or a DNS name).
    public static func target(_ s: HostPort) -> any ResolvableTarget {
        if s.isIPv6 { return .ipv6(address: s.host, port: s.port) as ResolvableTargets.IPv6 }
        if s.host.split(separator: ".").count == 4, s.host.allSatisfy({ $0.isNumber || $0 == "." }) {
            return .ipv4(address: s.host, port: s.port) as ResolvableTargets.IPv4
        }
        return .dns(host: s.host, port: s.port) as ResolvableTargets.DNS
    }

    /// One stream; returns whether any response arrived (to reset the backoff), throws on failure.
    func stream() async throws -> Bool {
        let transport = try HTTP2ClientTransport.Posix(target: target, transportSecurity: try connection.security(), eventLoopGroup: group)
        return try await withGRPCClient(transport: transport) { grpc in
            let client = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: grpc)
            let (requests, outbox) = AsyncStream.makeStream(of: ADSSession.Request.self)
            for r in session.withLock({ $0.start() }) { outbox.yield(r) }
            var options = CallOptions.defaults
            options.waitForReady = false  // fail fast when the control plane is down, then back off
            defer { outbox.finish() }
            return try await client.streamAggregatedResources(metadata: connection.metadata(), options: options, requestProducer: { writer in
                for await r in requests { try await writer.write(r) }
            }, onResponse: { response in
                var any = false
                for try await message in response.messages {
                    any = true
                    await self.handle(message, outbox: outbox)
                }
                outbox.finish()
                return any
            })
        }
    }

    func handle(_ message: ADSSession.Response, outbox: AsyncStream<ADSSession.Request>.Continuation) async {
        let outcome = session.withLock { $0.receive(message) }
        // The snapshot is in force before the ACK (and any new subscription) goes out.
        defer { for r in outcome.requests { outbox.yield(r) } }
        let versions = session.withLock { $0.assembler.versions }
        state.withLock { s in
            s.connected = true
            s.versions = versions
            if let text = outcome.refusal {
                s.lastNACK = text
                s.lastNACKTypeURL = message.typeURL
            } else if s.lastNACKTypeURL == message.typeURL {
                s.lastNACK = nil
                s.lastNACKTypeURL = nil
            }
        }
        if let text = outcome.refusal {
            logger.error("xDS config refused", metadata: ["type": "\(message.typeURL)", "error": "\(text)"])
        } else if let snapshot = outcome.snapshot {
            logger.debug("xDS config accepted", metadata: ["type": "\(message.typeURL)", "version": "\(message.versionInfo)"])
            await onSnapshot(snapshot)
        }
    }
}
