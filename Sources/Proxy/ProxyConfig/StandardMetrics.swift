import WeftCore

/// Istio's standard metrics on one worker (event loop): `istio_requests_total` and its three histograms per
/// HTTP label set, the four `istio_tcp_*` counters per TCP label set. Recorded once per request (when its stream
/// ends) and as TCP bytes move, on the worker's loop only, so nothing here takes a lock; the admin page adds up the
/// workers' copies. Label sets are bounded: past `maxSeries` of a kind, new ones are counted under one overflow set
/// (peers and service `overflow`), so memory stays bounded whatever callers send.
public final class StandardMetrics: @unchecked Sendable {
    /// The labels of one HTTP series, in Istio's names.
    public struct RequestKey: Hashable, Sendable {
        public var reporter: ListenerTelemetry.Reporter
        public var source: PeerMetadata
        public var destination: PeerMetadata
        public var service: ServiceRef
        public var requestProtocol: String
        public var responseCode: Int
        public var grpcStatus: String
        public var responseFlags: String
        public var securityPolicy: String

        public init(reporter: ListenerTelemetry.Reporter, source: PeerMetadata, destination: PeerMetadata, service: ServiceRef,
                    requestProtocol: String, responseCode: Int, grpcStatus: String, responseFlags: String, securityPolicy: String) {
            self.reporter = reporter
            self.source = source
            self.destination = destination
            self.service = service
            self.requestProtocol = requestProtocol
            self.responseCode = responseCode
            self.grpcStatus = grpcStatus
            self.responseFlags = responseFlags
            self.securityPolicy = securityPolicy
        }

        /// Hashes the labels that tell series apart in practice (a request hashes its key once, on its loop);
        /// equality still compares every label.
        public func hash(into h: inout Hasher) {
            h.combine(reporter)
            h.combine(source.workload)
            h.combine(destination.workload)
            h.combine(service.host)
            h.combine(responseCode)
            h.combine(responseFlags)
            h.combine(grpcStatus)
        }
    }

    /// The labels of one TCP series.
    public struct TCPKey: Hashable, Sendable {
        public var reporter: ListenerTelemetry.Reporter
        public var source: PeerMetadata
        public var destination: PeerMetadata
        public var service: ServiceRef
        public var responseFlags: String
        public var securityPolicy: String

        public init(reporter: ListenerTelemetry.Reporter, source: PeerMetadata, destination: PeerMetadata, service: ServiceRef,
                    responseFlags: String, securityPolicy: String) {
            self.reporter = reporter
            self.source = source
            self.destination = destination
            self.service = service
            self.responseFlags = responseFlags
            self.securityPolicy = securityPolicy
        }
    }

    /// One HTTP series' values.
    public struct RequestValues: Sendable, Equatable {
        public var count = 0
        public var duration = Histogram()
        public var requestBytes = Histogram()
        public var responseBytes = Histogram()
        public init() {}

        public mutating func add(_ o: RequestValues) {
            count += o.count
            duration.add(o.duration)
            requestBytes.add(o.requestBytes)
            responseBytes.add(o.responseBytes)
        }
    }

    /// One TCP series' values: a class, so a connection keeps its own and adds bytes as they move.
    public final class TCPValues: @unchecked Sendable {
        public var opened = 0
        public var closed = 0
        public var sentBytes = 0
        public var receivedBytes = 0
        public init() {}
    }

    /// Buckets as Envoy's default histogram buckets, which Istio's metrics use (milliseconds, and bytes).
    public struct Histogram: Sendable, Equatable {
        public static let bounds: [Double] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
                                              300000, 600000, 1800000, 3600000]
        /// Counts per bucket (not cumulative); the last is above every bound.
        public var buckets = [Int](repeating: 0, count: bounds.count + 1)
        public var sum: Double = 0
        public init() {}

        public mutating func record(_ v: Double) {
            sum += v
            var i = 0
            while i < Self.bounds.count && v > Self.bounds[i] { i += 1 }
            buckets[i] += 1
        }

        public mutating func add(_ o: Histogram) {
            sum += o.sum
            for i in buckets.indices { buckets[i] += o.buckets[i] }
        }
    }

    public static let overflowPeer = PeerMetadata(workload: "overflow", namespace: "overflow", app: "overflow", version: "overflow")
    public static let overflowService = ServiceRef(host: "overflow", name: "overflow", namespace: "overflow")

    /// One HTTP series, updated in place: a request looks its key up once.
    final class RequestSeries {
        var values = RequestValues()
    }

    public let maxSeries: Int
    var requestSeries: [RequestKey: RequestSeries] = [:]
    var last: (key: RequestKey, series: RequestSeries)?
    /// A copy of every HTTP series' values, for the admin page.
    public var requests: [RequestKey: RequestValues] { requestSeries.mapValues(\.values) }
    public private(set) var tcp: [TCPKey: TCPValues] = [:]
    /// Records that went to the overflow set because the table was full.
    public private(set) var overflowed = 0
    /// Peer header values already decoded (callers repeat the same few).
    var peers: [String: PeerMetadata] = [:]
    static let maxPeers = 1024

    public init(maxSeries: Int = 10_000) { self.maxSeries = maxSeries }

    /// A request that ended: `durationMs` from its first byte to its last, sizes in bytes.
    public func record(_ key: RequestKey, durationMs: Double, requestBytes: Int, responseBytes: Int) {
        // Most requests on a worker repeat the last one's labels, whose strings are then the same objects: one
        // comparison instead of a hash and a lookup.
        let series: RequestSeries
        if let last, last.key == key {
            series = last.series
        } else {
            series = requestSeries[key] ?? newSeries(key)
            last = (key, series)
        }
        series.values.count += 1
        series.values.duration.record(durationMs)
        series.values.requestBytes.record(Double(requestBytes))
        series.values.responseBytes.record(Double(responseBytes))
    }

    /// The series of a key not seen before: its own, or the overflow set's once the table is full.
    func newSeries(_ key: RequestKey) -> RequestSeries {
        var k = key
        if requestSeries.count >= maxSeries {
            overflowed += 1
            k.source = Self.overflowPeer
            k.destination = Self.overflowPeer
            k.service = Self.overflowService
            if let s = requestSeries[k] { return s }
        }
        let s = RequestSeries()
        requestSeries[k] = s
        return s
    }

    /// The values a TCP connection with these labels adds to (the connection keeps them).
    public func tcpValues(_ key: TCPKey) -> TCPValues {
        if let v = tcp[key] { return v }
        var k = key
        if tcp.count >= maxSeries {
            overflowed += 1
            k.source = Self.overflowPeer
            k.destination = Self.overflowPeer
            k.service = Self.overflowService
            if let v = tcp[k] { return v }
        }
        let v = TCPValues()
        tcp[k] = v
        return v
    }

    /// The peer in an `x-weft-peer-metadata` value, decoded once per distinct value.
    public func peer(headerValue: String) -> PeerMetadata {
        if let p = peers[headerValue] { return p }
        let p = PeerMetadata(headerValue: headerValue)
        if peers.count >= Self.maxPeers { peers.removeAll(keepingCapacity: true) }
        peers[headerValue] = p
        return p
    }

    /// A copy of the TCP values, for the admin page.
    public var tcpTotals: [TCPKey: (opened: Int, closed: Int, sent: Int, received: Int)] {
        tcp.mapValues { ($0.opened, $0.closed, $0.sentBytes, $0.receivedBytes) }
    }
}
