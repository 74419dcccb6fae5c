import Foundation
import NIOCore
import Synchronization
import ProxyConfig
import ProxyHTTP
import ProxyUpstream

/// Adds up the workers' counters (each read on its own loop) and renders them for Prometheus.
enum Metrics {
    struct Totals {
        var clusters: [String: WorkerStats.Cluster] = [:]
        var downstreamRequests = 0
        var downstreamConnections = 0
        var activeConnections = 0
        var localReplies: [String: Int] = [:]
        var ejected: [String: Set<String>] = [:]
        /// Counters filters keep by Envoy name (`http.inbound_8080.rbac.denied`), summed over workers.
        var named: [String: Int] = [:]
        /// Istio's standard metrics, summed over workers.
        var requests: [StandardMetrics.RequestKey: StandardMetrics.RequestValues] = [:]
        var tcp: [StandardMetrics.TCPKey: StandardMetricsText.TCPTotals] = [:]
        var overflowed = 0
    }

    static func collect(_ runtime: ProxyRuntime) async -> Totals {
        var t = Totals()
        for w in runtime.allWorkers {
            let part = try? await w.loop.submit { () -> Totals in
                Totals(clusters: w.stats.clusters, downstreamRequests: w.stats.downstreamRequests,
                       downstreamConnections: w.stats.downstreamConnections, activeConnections: w.activeConnections,
                       localReplies: w.stats.localReplies, ejected: w.upstreams.ejectedEndpoints(),
                       named: Dictionary(w.filterState.counters.map { ($0.key.text, $0.value) }, uniquingKeysWith: +),
                       requests: w.standard.requests, tcp: w.standard.tcpTotals, overflowed: w.standard.overflowed)
            }.get()
            guard let part else { continue }
            t.downstreamRequests += part.downstreamRequests
            t.downstreamConnections += part.downstreamConnections
            t.activeConnections += part.activeConnections
            t.localReplies.merge(part.localReplies, uniquingKeysWith: +)
            t.ejected.merge(part.ejected) { $0.union($1) }
            t.named.merge(part.named, uniquingKeysWith: +)
            t.overflowed += part.overflowed
            for (k, v) in part.requests { t.requests[k, default: StandardMetrics.RequestValues()].add(v) }
            for (k, v) in part.tcp {
                let s = t.tcp[k] ?? (0, 0, 0, 0)
                t.tcp[k] = (s.opened + v.opened, s.closed + v.closed, s.sent + v.sent, s.received + v.received)
            }
            for (name, c) in part.clusters {
                var sum = t.clusters[name] ?? WorkerStats.Cluster()
                sum.requests += c.requests
                sum.responses2xx += c.responses2xx
                sum.responses3xx += c.responses3xx
                sum.responses4xx += c.responses4xx
                sum.responses5xx += c.responses5xx
                sum.connectFailures += c.connectFailures
                sum.timeouts += c.timeouts
                sum.overflows += c.overflows
                sum.retries += c.retries
                sum.ejectionsTotal += c.ejectionsTotal
                sum.retryOverflows += c.retryOverflows
                // Ejections are the cluster's, shared by every worker: each worker sees the same ones.
                sum.ejectionsActive = max(sum.ejectionsActive, c.ejectionsActive)
                sum.connectionsOpened += c.connectionsOpened
                sum.connectionsActive += c.connectionsActive
                sum.durationMicrosSum += c.durationMicrosSum
                sum.durationBuckets = zip(sum.durationBuckets, c.durationBuckets).map(+)
                t.clusters[name] = sum
            }
        }
        return t
    }

    static func prometheus(_ runtime: ProxyRuntime) async -> String {
        let t = await collect(runtime)
        var out = ""
        func line(_ name: String, _ labels: String, _ v: Int) { out += "\(name){\(labels)} \(v)\n" }
        out += "# TYPE weft_http_downstream_rq_total counter\nweft_http_downstream_rq_total \(t.downstreamRequests)\n"
        out += "# TYPE weft_http_downstream_cx_total counter\nweft_http_downstream_cx_total \(t.downstreamConnections)\n"
        out += "# TYPE weft_http_downstream_cx_active gauge\nweft_http_downstream_cx_active \(t.activeConnections)\n"
        let guards = runtime.listenerGuards.sorted { $0.key < $1.key }
        out += "# TYPE weft_listener_downstream_cx_active gauge\n"
        for (name, g) in guards { line("weft_listener_downstream_cx_active", "listener=\"\(name)\"", g.connections.open) }
        out += "# TYPE weft_listener_downstream_cx_overflow counter\n"
        for (name, g) in guards { line("weft_listener_downstream_cx_overflow", "listener=\"\(name)\"", g.connections.refusedTotal) }
        out += "# TYPE weft_listener_downstream_rq_too_many_premature_resets counter\n"
        for (name, g) in guards {
            line("weft_listener_downstream_rq_too_many_premature_resets", "listener=\"\(name)\"", g.resetBudgetClosures.load(ordering: .relaxed))
        }
        out += "# TYPE weft_local_replies_total counter\n"
        for (flag, n) in t.localReplies.sorted(by: { $0.key < $1.key }) { line("weft_local_replies_total", "response_flags=\"\(flag)\"", n) }
        let series: [(String, String, (WorkerStats.Cluster) -> Int)] = [
            ("weft_cluster_upstream_rq_total", "counter", { $0.requests }),
            ("weft_cluster_upstream_cx_total", "counter", { $0.connectionsOpened }),
            ("weft_cluster_upstream_cx_active", "gauge", { $0.connectionsActive }),
            ("weft_cluster_upstream_cx_connect_fail", "counter", { $0.connectFailures }),
            ("weft_cluster_upstream_rq_timeout", "counter", { $0.timeouts }),
            ("weft_cluster_upstream_rq_retry", "counter", { $0.retries }),
            ("weft_cluster_upstream_rq_pending_overflow", "counter", { $0.overflows }),
            ("weft_cluster_upstream_rq_retry_overflow", "counter", { $0.retryOverflows }),
            ("weft_cluster_outlier_detection_ejections_total", "counter", { $0.ejectionsTotal }),
            ("weft_cluster_outlier_detection_ejections_active", "gauge", { $0.ejectionsActive }),
        ]
        let names = t.clusters.keys.sorted()
        for (metric, type, value) in series {
            out += "# TYPE \(metric) \(type)\n"
            for n in names { line(metric, "cluster=\"\(n)\"", value(t.clusters[n]!)) }
        }
        out += "# TYPE weft_cluster_upstream_rq counter\n"
        for n in names {
            let c = t.clusters[n]!
            for (cls, v) in [(2, c.responses2xx), (3, c.responses3xx), (4, c.responses4xx), (5, c.responses5xx)] where v > 0 {
                line("weft_cluster_upstream_rq", "cluster=\"\(n)\",response_code_class=\"\(cls)xx\"", v)
            }
        }
        out += "# TYPE weft_cluster_upstream_rq_time histogram\n"
        for n in names {
            let c = t.clusters[n]!
            var cumulative = 0
            for (i, bound) in WorkerStats.bucketBoundsMs.enumerated() {
                cumulative += c.durationBuckets[i]
                line("weft_cluster_upstream_rq_time_bucket", "cluster=\"\(n)\",le=\"\(bound)\"", cumulative)
            }
            cumulative += c.durationBuckets.last ?? 0
            line("weft_cluster_upstream_rq_time_bucket", "cluster=\"\(n)\",le=\"+Inf\"", cumulative)
            out += "weft_cluster_upstream_rq_time_sum{cluster=\"\(n)\"} \(Double(c.durationMicrosSum) / 1000)\n"
            line("weft_cluster_upstream_rq_time_count", "cluster=\"\(n)\"", cumulative)
        }
        var overrides: [ListenerTelemetry.Reporter: MetricOverrides] = [:]
        for l in runtime.snapshot.listeners.values.sorted(by: { $0.name < $1.name }) {
            if let tel = l.telemetry, overrides[tel.reporter] == nil { overrides[tel.reporter] = tel.metricOverrides }
        }
        out += StandardMetricsText.render(requests: t.requests, tcp: t.tcp, overrides: overrides)
        out += "# TYPE weft_istio_series_overflow_total counter\nweft_istio_series_overflow_total \(t.overflowed)\n"
        out += "# TYPE weft_filter_counter counter\n"
        for (name, n) in t.named.sorted(by: { $0.key < $1.key }) { line("weft_filter_counter", "name=\"\(StandardMetricsText.escape(name))\"", n) }
        return out
    }

    /// Envoy's text format of the counters filters keep by name (`http.inbound_8080.rbac.allowed: 12`), sorted, as
    /// Envoy's admin `/stats` prints them; `filter` (a regular expression, as Envoy's `?filter=`) keeps the names it
    /// finds.
    static func envoyText(_ runtime: ProxyRuntime, filter: String? = nil) async -> String {
        let t = await collect(runtime)
        let rx = filter.flatMap { try? Regex($0) }
        var out = ""
        for (name, n) in t.named.sorted(by: { $0.key < $1.key }) where rx.map({ name.contains($0) }) ?? true {
            out += "\(name): \(n)\n"
        }
        return out
    }
}
