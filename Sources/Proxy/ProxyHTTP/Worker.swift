import Logging
import NIOCore
import ProxyConfig
import ProxyUpstream
import WeftCore

/// One event loop's share of the proxy: the snapshot its new requests use, its upstream side, its counters and
/// random source. Only ever used on `loop`.
public final class Worker: @unchecked Sendable {
    public let loop: any EventLoop
    public private(set) var snapshot = ProxySnapshot()
    /// Clusters, load balancing, health and pools (the ProxyUpstream layer).
    public let upstreams: Upstreams
    var rng: any RandomNumberGenerator
    public let stats: WorkerStats
    /// What HTTP and network filters keep on this loop: named counters (RBAC's), caches (verified JWTs), the log.
    public let filterState: WorkerFilterState
    /// Istio's standard metrics recorded on this loop.
    public let standard = StandardMetrics()
    /// Access log lines written on this loop, buffered per file.
    let accessLogs: AccessLogWriter
    /// Finished spans on their way to the exporter.
    let spans: SpanBuffer
    /// Open downstream connections, for draining on shutdown.
    public internal(set) var activeConnections = 0
    public internal(set) var activeRequests = 0

    /// `logger` gets what filters log (authorization decisions; by default nothing is logged); `wallClock` is the
    /// time JWTs are checked against.
    public init(loop: any EventLoop, rng: any RandomNumberGenerator = SystemRandomNumberGenerator(),
                shared: SharedUpstreams = SharedUpstreams(), connector: any UpstreamConnector = TCPConnector(),
                logger: Logger = Logger(label: "weft.proxy", factory: { _ in SwiftLogNoOpLogHandler() }),
                wallClock: any WallClock = SystemWallClock(), spanExporter: (any SpanExporter)? = nil) {
        self.loop = loop
        self.rng = rng
        accessLogs = AccessLogWriter(loop: loop)
        spans = SpanBuffer(loop: loop, exporter: spanExporter)
        filterState = WorkerFilterState(wallClock: wallClock) { event in
            let metadata = event.fields.mapValues { Logger.MetadataValue.string($0) }
            switch event.level {
            case .debug: logger.debug("\(event.message)", metadata: metadata)
            case .info: logger.info("\(event.message)", metadata: metadata)
            }
        }
        let stats = WorkerStats()
        self.stats = stats
        upstreams = Upstreams(loop: loop, stats: stats, shared: shared, connector: connector)
        spans.endpoints = { [unowned self] name in snapshot.clusters[name]?.endpoints ?? [] }
    }

    /// Takes a new snapshot: requests already running keep theirs; the upstream side takes the new clusters.
    public func apply(_ new: ProxySnapshot) {
        loop.preconditionInEventLoop()
        snapshot = new
        upstreams.apply(new.clusters)
    }

    /// Downstream connection accounting, shared by the HTTP/1 and HTTP/2 handlers.
    func connectionOpened() {
        activeConnections += 1
        stats.downstreamConnections += 1
    }

    func connectionClosed() { activeConnections -= 1 }

    /// Writes buffered access log lines and hands buffered spans to the exporter now (at shutdown).
    public func flushTelemetry() {
        loop.preconditionInEventLoop()
        accessLogs.flush(wait: true)
        spans.flush()
    }

    /// Trace and span ids and sampling draws: a fast generator seeded from the system's, so a request costs no
    /// system call (ids need to be unique and unpredictable enough to sample by, not secret).
    var ids = Xoshiro256()

    func random64() -> UInt64 {
        let v = ids.next()
        return v == 0 ? 1 : v
    }

    func random(below n: Int) -> Int {
        n <= 1 ? 0 : Int.random(in: 0..<n, using: &rng)
    }
}
