import Foundation
import Logging
import NIOCore
import Synchronization
import WeftCore
import WeftHTTPClient
import WeftTraffic
import XDSServer

/// Reads every connected proxy's metrics (its admin `/stats/prometheus`, weft proxy's Istio metrics or Envoy's own)
/// every `interval` and keeps the service graph of the last window, for the dashboard, `weft top` and `weft
/// metrics`. Works without Prometheus; a scrape costs each proxy one small HTTP request per interval.
final class MetricsCollector: Sendable {
    struct State {
        var last: [String: Scrape] = [:]
        var graph = ServiceGraph()
    }

    let book: ProxyStatusBook
    let interval: Duration
    let logger: Logger
    let state = Mutex(State())

    init(book: ProxyStatusBook, interval: Duration, logger: Logger) {
        self.book = book
        self.interval = interval
        self.logger = logger
    }

    /// The graph of the newest window.
    var graph: ServiceGraph { state.withLock { $0.graph } }

    func run() async {
        while !Task.isCancelled {
            await round()
            try? await Task.sleep(for: interval)
        }
    }

    /// Scrapes every connected proxy once (concurrently) and rebuilds the graph.
    func round() async {
        let proxies = book.all().filter { $0.connected && $0.admin != nil }
        let results = await withTaskGroup(of: (String, Scrape?).self) { group in
            for p in proxies {
                group.addTask { (p.id, await Self.scrape(p)) }
            }
            var out: [String: Scrape?] = [:]
            for await (id, s) in group { out[id] = s }
            return out
        }
        state.withLock { s in
            var pairs: [(previous: Scrape?, current: Scrape)] = []
            var unreachable: [String] = []
            for id in results.keys.sorted() {
                guard let current = results[id]! else { unreachable.append(id); continue }
                pairs.append((s.last[id], current))
                s.last[id] = current
            }
            s.last = s.last.filter { results[$0.key] != nil }
            s.graph = GraphBuilder.build(pairs, unreachable: unreachable)
        }
    }

    static func scrape(_ p: ProxyStatus) async -> Scrape? {
        guard let admin = p.admin, let hp = try? HostPort(parsing: admin) else { return nil }
        guard let r = try? await HTTPClient.send("GET", to: hp, target: "/stats/prometheus", host: admin, timeout: .seconds(2)),
              r.status == 200 else { return nil }
        let samples = PromText.parse(r.body, keep: TrafficSample.wanted)
        let edges = p.dataPlane == "weft"
            ? TrafficSample.weft(samples)
            : TrafficSample.envoy(samples, source: PeerMetadata(namespace: p.namespace, labels: p.labels, principal: nil))
        return Scrape(at: Date().timeIntervalSince1970, edges: edges)
    }
}
