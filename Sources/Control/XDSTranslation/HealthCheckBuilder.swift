import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftModel

/// Weft's active health check (DestinationRule annotations) as Envoy's cluster `health_checks`.
enum HealthCheckBuilder {
    static func healthCheck(_ hc: ActiveHealthCheck, host: String, port: ServicePort) -> Envoy_Config_Core_V3_HealthCheck {
        var h = Envoy_Config_Core_V3_HealthCheck()
        h.timeout = Proto.duration(nanos: hc.timeout)
        h.interval = Proto.duration(nanos: hc.interval)
        // Envoy checks a cluster that has seen no traffic only every 60 s by default; Weft checks at the interval.
        h.noTrafficInterval = Proto.duration(nanos: hc.interval)
        h.unhealthyThreshold = Proto.u32(hc.unhealthyThreshold)
        h.healthyThreshold = Proto.u32(hc.healthyThreshold)
        switch hc.kind {
        case .http:
            var http = Envoy_Config_Core_V3_HealthCheck.HttpHealthCheck()
            http.host = host
            http.path = hc.path
            if port.protocol.isHTTP2 { http.codecClientType = .http2 }
            h.httpHealthCheck = http
        case .tcp:
            h.tcpHealthCheck = Envoy_Config_Core_V3_HealthCheck.TcpHealthCheck()
        case .grpc:
            var g = Envoy_Config_Core_V3_HealthCheck.GrpcHealthCheck()
            g.serviceName = hc.grpcService
            g.authority = host
            h.grpcHealthCheck = g
        }
        return h
    }
}
