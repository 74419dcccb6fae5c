import Foundation
import WeftCore
import WeftHTTPServer
import WeftModel
import WeftTraffic
import XDSServer

/// Prometheus HTTP service discovery (`http_sd_configs`): every connected proxy that gave its admin address, as
/// one target group with its workload's labels, scraped at `/stats/prometheus` (Envoy's and weft proxy's path).
extension ControlAPI {
    static let metricsPath = "/stats/prometheus"

    /// `GET /api/v1/prometheus/targets`.
    func prometheusTargets() -> APIResponse {
        let groups: [JSONValue] = book.all().filter { $0.connected && $0.admin != nil }.map { p in
            let peer = PeerMetadata(namespace: p.namespace, labels: p.labels, principal: nil)
            let labels: [(String, JSONValue)] = [
                ("__metrics_path__", .string(Self.metricsPath)),
                ("node", .string(p.id)),
                ("namespace", .string(p.namespace)),
                ("workload", .string(peer.workload)),
                ("app", .string(peer.app)),
                ("version", .string(peer.version)),
                ("data_plane", .string(p.dataPlane)),
            ]
            return .object([("targets", .array([.string(p.admin!)])), ("labels", .object(labels))])
        }
        return .json(.array(groups))
    }
}

/// The service graph the control plane computes from the proxies' metrics (MetricsCollector).
extension ControlAPI {
    /// `GET /api/v1/graph`: services and edges with rates, error rates and latency over the last window.
    func serviceGraph() -> APIResponse {
        guard let graph else {
            return .json(.object([("errors", .array([.string("this control plane reads no metrics (--metrics-interval 0)")]))]), status: .notFound)
        }
        guard let data = try? Self.graphEncoder.encode(graph()), let text = String(data: data, encoding: .utf8) else {
            return .json(.object([("errors", .array([.string("cannot encode the service graph")]))]), status: .internalServerError)
        }
        return APIResponse(status: .ok, body: text + "\n")
    }

    static let graphEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "+Inf", negativeInfinity: "-Inf", nan: "NaN")
        return e
    }()
}
