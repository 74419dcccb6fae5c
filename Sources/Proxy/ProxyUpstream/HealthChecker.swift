import NIOCore
import ProxyConfig

/// Active health checking for the whole proxy, on one event loop (as Envoy runs it on its main thread): each
/// endpoint of each health-checked cluster is probed every interval. A new endpoint is out of rotation until
/// its first probe passes; a healthy one leaves after `unhealthyThreshold` failed probes in a row (at once when
/// it answers "unhealthy"), and comes back after `healthyThreshold` passes. Changes go to every worker.
public final class HealthChecker: @unchecked Sendable {
    let loop: any EventLoop
    let upstreams: [Upstreams]
    /// Loop-confined state, by cluster name.
    var clusters: [String: CheckedCluster] = [:]

    final class CheckedCluster {
        var config: HealthCheckConfig
        var endpoints: [EndpointAddress: EndpointHealth] = [:]
        var published: Set<EndpointAddress>?
        /// The TLS each endpoint takes for traffic (mesh mTLS, or the user's files), used by its probes too, as
        /// Envoy's health checks use the host's transport socket.
        var tls: [EndpointAddress: UpstreamMeshTLS] = [:]
        init(config: HealthCheckConfig) { self.config = config }

        var failing: Set<EndpointAddress> { Set(endpoints.filter { !$0.value.healthy }.keys) }
    }

    final class EndpointHealth {
        var healthy = false
        var pending = true
        var passes = 0
        var failures = 0
        var task: Scheduled<Void>?
        var removed = false
    }

    public init(loop: any EventLoop, upstreams: [Upstreams]) {
        self.loop = loop
        self.upstreams = upstreams
    }

    /// Follows a new snapshot: starts probing new endpoints, stops probing those gone.
    public func update(_ snapshot: ProxySnapshot) {
        loop.execute { [self] in apply(snapshot) }
    }

    func apply(_ snapshot: ProxySnapshot) {
        var wanted: [String: (HealthCheckConfig, Set<EndpointAddress>)] = [:]
        var tls: [String: [EndpointAddress: UpstreamMeshTLS]] = [:]
        for c in snapshot.clusters.values {
            guard let hc = c.healthCheck else { continue }
            let endpoints = c.endpoints.filter(\.healthy)
            wanted[c.name] = (hc, Set(endpoints.map { EndpointAddress(host: $0.host, port: $0.port) }))
            for e in endpoints { if let t = c.meshTLS(for: e) { tls[c.name, default: [:]][EndpointAddress(host: e.host, port: e.port)] = t } }
        }
        for (name, cluster) in clusters where wanted[name] == nil {
            for e in cluster.endpoints.values { stop(e) }
            clusters[name] = nil
        }
        for (name, (config, addresses)) in wanted {
            let cluster = clusters[name] ?? CheckedCluster(config: config)
            cluster.config = config
            cluster.tls = tls[name] ?? [:]
            clusters[name] = cluster
            for (addr, e) in cluster.endpoints where !addresses.contains(addr) {
                stop(e)
                cluster.endpoints[addr] = nil
            }
            for addr in addresses where cluster.endpoints[addr] == nil {
                let e = EndpointHealth()
                cluster.endpoints[addr] = e
                probe(name, addr, e)
            }
            publish(name, cluster)
        }
    }

    func stop(_ e: EndpointHealth) {
        e.removed = true
        e.task?.cancel()
    }

    func probe(_ name: String, _ addr: EndpointAddress, _ e: EndpointHealth) {
        guard !e.removed, let cluster = clusters[name] else { return }
        let config = cluster.config
        HealthProbe.run(config, addr, tls: cluster.tls[addr], credentials: upstreams.first?.credentials, on: loop).whenSuccess { [self] outcome in
            guard !e.removed, let cluster = clusters[name] else { return }
            record(outcome, e, config)
            publish(name, cluster)
            e.task = loop.scheduleTask(in: TimeAmount(cluster.config.interval)) { [self] in probe(name, addr, e) }
        }
    }

    /// Envoy's state machine for one probe result.
    func record(_ outcome: HealthProbe.Outcome, _ e: EndpointHealth, _ config: HealthCheckConfig) {
        switch outcome {
        case .pass:
            e.failures = 0
            e.passes += 1
            if !e.healthy && (e.pending || e.passes >= config.healthyThreshold) { e.healthy = true }
            e.pending = false
        case .unhealthy, .networkFailure:
            e.passes = 0
            e.failures += 1
            if e.healthy && (outcome == .unhealthy || e.failures >= config.unhealthyThreshold) { e.healthy = false }
            e.pending = false
        }
    }

    func publish(_ name: String, _ cluster: CheckedCluster) {
        let failing = cluster.failing
        guard failing != cluster.published else { return }
        cluster.published = failing
        for u in upstreams { u.loop.execute { u.setHealthCheckFailures(cluster: name, failing) } }
    }

    /// Endpoints failing their health check, by cluster (for the admin page).
    public func failing() -> EventLoopFuture<[String: Set<EndpointAddress>]> {
        loop.submit { [self] in clusters.mapValues(\.failing) }
    }
}
