import NIOCore
import ProxyConfig

/// An endpoint's address, as the health checker names it.
public struct EndpointAddress: Hashable, Sendable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(_ e: EndpointConfig) { self.init(host: e.host, port: e.port) }
}

struct EndpointKey: Hashable {
    var cluster: String
    var host: String
    var port: Int
}

/// One cluster's state on one worker, compiled when a snapshot is applied.
package final class ClusterRuntime {
    package var config: ClusterConfig
    /// Endpoints healthy by EDS (every priority), and their pools (same order).
    var all: [EndpointConfig] = []
    var allPools: [UpstreamPool] = []
    /// The rotation by priority (see Rotation.swift).
    var levels: [RotationLevel] = []
    /// The common case, one priority and one group in rotation, kept flat for the request path (else empty).
    var candidates: [EndpointConfig] = []
    var pools: [UpstreamPool] = []
    var totalWeight = 0
    var roundRobin = 0
    /// When the next ejected endpoint comes back.
    var nextUnejection: NIODeadline?
    let counters: ClusterCounters
    /// The cluster's state across workers: requests and retries in flight (for the retry budget), circuit
    /// breaker counts, outlier detection.
    let shared: SharedCluster

    init(config: ClusterConfig, counters: ClusterCounters, shared: SharedCluster) {
        self.config = config
        self.counters = counters
        self.shared = shared
    }
}

/// What the request side asks of a cluster: an endpoint and its pool, and the accounting of a request's life
/// (its own counters on this worker, and the in-flight counts the retry budget reads across workers).
extension ClusterRuntime {
    /// An endpoint for one request, its pool, and how many endpoints there were to choose from; nil when none is
    /// in rotation. Ejections that are over end first. `random(n)` draws in `0..<n`; `exclude` holds the
    /// endpoints earlier tries of the request used (a retry goes elsewhere when it can).
    package func pick(hash: UInt64?, exclude: Set<EndpointConfig> = [], random: (Int) -> Int)
        -> (endpoint: EndpointConfig, pool: UpstreamPool, choices: Int)? {
        if nextUnejection != nil { uneject(now: .now()) }
        return LoadBalancer.pick(self, hash: hash, exclude: exclude, random: random)
    }

    /// A request is routed to this cluster.
    package func requestStarted() {
        counters.value.requests += 1
        shared.requests.wrappingAdd(1, ordering: .relaxed)
    }

    /// A request to this cluster ended with `status` after `micros`; `retried` when it held a place in the
    /// retry budget.
    package func requestEnded(status: Int, micros: Int, retried: Bool) {
        shared.requests.wrappingSubtract(1, ordering: .relaxed)
        if retried { shared.retries.wrappingSubtract(1, ordering: .relaxed) }
        WorkerStats.record(counters, micros: micros, status: status)
    }

    /// Whether the retry budget (or max retries), counted across workers, has room for one more retry.
    package var retryAllowed: Bool {
        let active = shared.requests.load(ordering: .relaxed)
        return shared.retries.load(ordering: .relaxed) < config.limits.retriesAllowed(active: active)
    }

    /// A retry starts; `first` when it is the request's first (it takes a place in the budget until it ends).
    package func retryStarted(first: Bool) {
        if first { shared.retries.wrappingAdd(1, ordering: .relaxed) }
        counters.value.retries += 1
    }

    /// Events the request side counts on the cluster (a mirrored request and a proxied TCP connection count as
    /// requests; neither holds a place in the retry budget).
    package enum Event { case timeout, overflow, retryOverflow, mirrored, connection, connectFailure }

    package func count(_ event: Event) {
        switch event {
        case .timeout: counters.value.timeouts += 1
        case .overflow: counters.value.overflows += 1
        case .retryOverflow: counters.value.retryOverflows += 1
        case .mirrored, .connection: counters.value.requests += 1
        case .connectFailure: counters.value.connectFailures += 1
        }
    }
}
