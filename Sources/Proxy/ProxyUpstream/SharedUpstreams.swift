import NIOCore
import Synchronization

/// What every worker of one proxy shares about its clusters, as Envoy keeps it per cluster rather than per
/// worker: the circuit breakers' counts (connections, pending requests, requests and retries in flight) and
/// each endpoint's outlier-detection state. Counts checked per request are atomics; an ejection decided on one
/// worker is published to every worker, which rebuilds that cluster's rotation on its own loop.
///
/// Created once per proxy and handed to every Worker; a Worker made alone (tests) gets its own.
public final class SharedUpstreams: Sendable {
    let clusters = Mutex<[String: SharedCluster]>([:])
    let subscribers = Mutex<[@Sendable (String) -> Void]>([])
    /// The proxy's mesh certificate as TLS contexts, for mTLS on both sides.
    public let credentials = MeshCredentials()

    public init() {}

    /// The shared state of a cluster, made on first use (when a snapshot is applied, never per request).
    func cluster(_ name: String) -> SharedCluster {
        clusters.withLock { c in
            if let s = c[name] { return s }
            let s = SharedCluster(name: name) { [weak self] in self?.publishEjection(in: $0) }
            c[name] = s
            return s
        }
    }

    /// Keeps the state of these clusters only (the snapshot's), so clusters that left are forgotten.
    public func keep(_ names: Set<String>) {
        clusters.withLock { c in c = c.filter { names.contains($0.key) } }
    }

    /// `changed` runs (on the caller's thread) with a cluster's name whenever one of its endpoints is ejected.
    func subscribe(_ changed: @escaping @Sendable (String) -> Void) {
        subscribers.withLock { $0.append(changed) }
    }

    func publishEjection(in cluster: String) {
        for s in subscribers.withLock({ $0 }) { s(cluster) }
    }
}

/// One cluster's circuit-breaker counts across workers, and its endpoints' outlier state.
final class SharedCluster: Sendable {
    let name: String
    /// Tells every worker that an endpoint of this cluster was ejected.
    let publishEjection: @Sendable (String) -> Void
    /// Open upstream connections (HTTP/1.1 connections and HTTP/2 connections).
    let connections = Atomic<Int>(0)
    /// Requests waiting for a connection.
    let pending = Atomic<Int>(0)
    /// Requests in flight to the cluster, from routing to the end of the response.
    let requests = Atomic<Int>(0)
    /// Of those, the ones on a retry (for max retries and the retry budget).
    let retries = Atomic<Int>(0)
    let endpoints = Mutex<[EndpointAddress: SharedEndpoint]>([:])

    init(name: String, publishEjection: @escaping @Sendable (String) -> Void) {
        self.name = name
        self.publishEjection = publishEjection
    }

    func endpoint(_ address: EndpointAddress) -> SharedEndpoint {
        endpoints.withLock { e in
            if let s = e[address] { return s }
            let s = SharedEndpoint()
            e[address] = s
            return s
        }
    }

    /// Takes one of `counter` if it is below `limit`.
    static func take(_ counter: borrowing Atomic<Int>, below limit: Int) -> Bool {
        if counter.wrappingAdd(1, ordering: .relaxed).newValue <= limit { return true }
        counter.wrappingSubtract(1, ordering: .relaxed)
        return false
    }
}

/// One endpoint's outlier-detection state, shared by the pools every worker has for it.
final class SharedEndpoint: Sendable {
    let consecutive5xx = Atomic<Int>(0)
    let consecutiveGateway = Atomic<Int>(0)
    let ejections = Atomic<Int>(0)
    /// When the ejection ends (NIODeadline's uptime nanoseconds), 0 when the endpoint is not ejected.
    let ejectedUntilNanos = Atomic<UInt64>(0)

    var ejectedUntil: NIODeadline? {
        let n = ejectedUntilNanos.load(ordering: .relaxed)
        return n == 0 ? nil : .uptimeNanoseconds(n)
    }

    func isEjected(at now: NIODeadline) -> Bool {
        ejectedUntil.map { $0 > now } ?? false
    }

    /// Ejects until `until` unless another worker ejected it first; true when this call did.
    func eject(until: NIODeadline) -> Bool {
        ejectedUntilNanos.compareExchange(expected: 0, desired: max(1, until.uptimeNanoseconds), ordering: .relaxed).exchanged
    }

    /// Ends an ejection that is over (once, whichever worker gets here first).
    func unejectIfOver(at now: NIODeadline) {
        let n = ejectedUntilNanos.load(ordering: .relaxed)
        if n != 0 && n <= now.uptimeNanoseconds {
            _ = ejectedUntilNanos.compareExchange(expected: n, desired: 0, ordering: .relaxed)
        }
    }
}
