import Logging
import NIOConcurrencyHelpers
import NIOCore
import ProxyUpstream
import NIOPosix
import ProxyHTTP
import ProxyConfig
import ProxyUpstream
import ProxyRouting

/// The running data plane: workers, listeners and the snapshot in force.
public final class ProxyRuntime: Sendable {
    public let group: MultiThreadedEventLoopGroup
    let workers: [ObjectIdentifier: Worker]
    public var allWorkers: [Worker] { Array(workers.values) }
    let state = NIOLockedValueBox(State())
    let logger: Logger
    public let healthChecker: HealthChecker
    /// Cluster state every worker shares: circuit breakers and outlier detection count across workers.
    let shared = SharedUpstreams()

    struct State {
        var snapshot = ProxySnapshot()
        var applied = false
        var listeners: [String: BoundListener] = [:]
        var draining = false
    }

    struct BoundListener {
        var config: ListenerConfig
        var box: NIOLockedValueBox<ListenerConfig>
        var channel: (any Channel)?
        /// Connection count and reset budget over all the listener's connections, kept across updates.
        var guard_: ListenerGuard
    }

    public init(concurrency: Int, logger: Logger) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, concurrency))
        var w: [ObjectIdentifier: Worker] = [:]
        // Spans leave on the shared loops, never on a worker's.
        let exporter = OTLPExporter(logger: logger, group: MultiThreadedEventLoopGroup.singleton)
        for loop in group.makeIterator() {
            w[ObjectIdentifier(loop)] = Worker(loop: loop, shared: shared, logger: logger, spanExporter: exporter)
        }
        workers = w
        self.logger = logger
        healthChecker = HealthChecker(loop: group.next(), upstreams: w.values.map(\.upstreams))
    }

    public var snapshot: ProxySnapshot { state.withLockedValue { $0.snapshot } }

    /// The proxy's mesh certificate as TLS contexts, shared by every worker.
    public var credentials: MeshCredentials { shared.credentials }

    /// Every bound listener's counters, by name (the admin page's listener stats).
    public var listenerGuards: [String: ListenerGuard] { state.withLockedValue { $0.listeners.mapValues(\.guard_) } }
    public var isReady: Bool { state.withLockedValue { $0.applied } }

    /// Takes a new snapshot: every worker swaps it in on its own loop, then listeners are reconciled.
    /// Before the first warm snapshot, listeners are not opened (Envoy's init manager does the same), so the
    /// first request never meets a route without its cluster's endpoints; `force` opens them anyway (after the
    /// initial fetch timeout).
    public func apply(_ snapshot: ProxySnapshot, force: Bool = false) async {
        let first = state.withLockedValue { s -> Bool in
            s.snapshot = snapshot
            return !s.applied
        }
        shared.keep(Set(snapshot.clusters.keys))
        // Every worker has it before this returns (and so before the ADS client ACKs it).
        for w in workers.values { try? await w.loop.submit { w.apply(snapshot) }.get() }
        healthChecker.update(snapshot)
        if first && !snapshot.warm && !force { return }
        await reconcileListeners(snapshot.listeners)
        state.withLockedValue { $0.applied = true }
    }

    func reconcileListeners(_ wanted: [String: ListenerConfig]) async {
        let (current, draining) = state.withLockedValue { ($0.listeners, $0.draining) }
        guard !draining else { return }
        for (name, bound) in current where wanted[name].map({ $0.host != bound.config.host || $0.port != bound.config.port }) ?? true {
            // Removed, or moved to another address: stop accepting; open connections finish on their own.
            try? await bound.channel?.close()
            state.withLockedValue { _ = $0.listeners.removeValue(forKey: name) }
            logger.info("listener closed", metadata: ["listener": "\(name)"])
        }
        for (name, config) in wanted.sorted(by: { $0.key < $1.key }) {
            if let bound = state.withLockedValue({ $0.listeners[name] }) {
                bound.box.withLockedValue { $0 = config }  // same address: new connections use the new kind
                state.withLockedValue { $0.listeners[name]?.config = config }
                continue
            }
            let box = NIOLockedValueBox(config)
            let counters = ListenerGuard()
            do {
                let channel = try await bind(config, box: box, guard: counters)
                state.withLockedValue { $0.listeners[name] = BoundListener(config: config, box: box, channel: channel, guard_: counters) }
                logger.info("listener bound", metadata: ["listener": "\(name)", "address": "\(config.host):\(config.port)"])
            } catch {
                logger.error("cannot bind listener", metadata: ["listener": "\(name)", "address": "\(config.host):\(config.port)", "error": "\(error)"])
            }
        }
    }

    func bind(_ config: ListenerConfig, box: NIOLockedValueBox<ListenerConfig>, guard counters: ListenerGuard) async throws -> any Channel {
        let workers = self.workers
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let worker = workers[ObjectIdentifier(channel.eventLoop)] else { throw ChannelError.ioOnClosedChannel }
                    try ListenerPipelines.configure(channel, listener: box.withLockedValue { $0 }, worker: worker, guard: counters)
                }
            }
            .bind(host: config.host, port: config.port).get()
    }

    /// Stops accepting, waits up to `seconds` for requests in flight to finish, then stops the loops.
    public func drain(seconds: Double) async {
        let bound = state.withLockedValue { s -> [BoundListener] in
            s.draining = true
            return Array(s.listeners.values)
        }
        for b in bound { try? await b.channel?.close() }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            var active = 0
            for w in workers.values { active += (try? await w.loop.submit { w.activeRequests }.get()) ?? 0 }
            if active == 0 { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        // What the workers still hold of access log lines and spans goes out before the loops stop.
        for w in workers.values { try? await w.loop.submit { w.flushTelemetry() }.get() }
        try? await group.shutdownGracefully()
    }
}
