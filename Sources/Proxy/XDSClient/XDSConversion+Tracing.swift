import EnvoyAPI
import ProxyConfig
import SwiftProtobuf

/// An HTTP connection manager's `tracing`: Envoy's OpenTelemetry tracer exporting over OTLP to a cluster of the
/// snapshot (gRPC `envoy_grpc`, or `http_service`), random sampling and custom tags.
extension XDSConversion {
    static let openTelemetryTracer = "envoy.tracers.opentelemetry"
    static let openTelemetryType = "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig"

    static func tracing(_ t: HCM.Tracing) throws -> TracingConfig {
        guard t.hasProvider else { throw FieldError("a tracing provider is needed", at: ["provider"]) }
        guard case let .typedConfig(any)? = t.provider.configType, any.typeURL == openTelemetryType else {
            throw FieldError("only the OpenTelemetry tracer (\(openTelemetryTracer)) is supported", at: ["provider"])
        }
        let otel = try field("provider.typed_config") { try Envoy_Config_Trace_V3_OpenTelemetryConfig(unpackingAny: any) }
        let cluster: String, export: TracingConfig.Export
        var timeout = Duration.seconds(3)
        if otel.hasHTTPService {
            let uri = otel.httpService.httpUri
            guard case let .cluster(c)? = uri.httpUpstreamType, !c.isEmpty else {
                throw FieldError("http_uri needs a cluster", at: ["provider", "typed_config", "http_service", "http_uri", "cluster"])
            }
            cluster = c
            let (authority, path) = splitURI(uri.uri)
            export = .http(path: path, authority: authority)
            if uri.hasTimeout { timeout = try field("provider.typed_config.http_service.http_uri.timeout") { try Convert.duration(uri.timeout) } }
        } else if otel.hasGrpcService {
            guard case let .envoyGrpc(g)? = otel.grpcService.targetSpecifier, !g.clusterName.isEmpty else {
                throw FieldError("grpc_service needs envoy_grpc.cluster_name", at: ["provider", "typed_config", "grpc_service"])
            }
            cluster = g.clusterName
            export = .grpc
            if otel.grpcService.hasTimeout {
                timeout = try field("provider.typed_config.grpc_service.timeout") { try Convert.duration(otel.grpcService.timeout) }
            }
        } else {
            throw FieldError("grpc_service or http_service is needed", at: ["provider", "typed_config"])
        }
        let percent = t.hasRandomSampling ? t.randomSampling.value : 100
        guard (0...100).contains(percent) else { throw FieldError("must be between 0 and 100", at: ["random_sampling"]) }
        let tags = try each("custom_tags", t.customTags) { c -> (tag: String, value: TracingConfig.TagValue) in
            switch c.type {
            case let .literal(l)?: return (c.tag, .literal(l.value))
            case let .environment(e)?: return (c.tag, .environment(e.name, defaultValue: e.defaultValue))
            case let .requestHeader(h)?: return (c.tag, .requestHeader(h.name.lowercased(), defaultValue: h.defaultValue))
            case nil: throw FieldError("a custom tag needs a value", at: ["type"])
            }
        }
        return TracingConfig(cluster: cluster, export: export, serviceName: otel.serviceName.isEmpty ? "weft-proxy" : otel.serviceName,
                             samplingPerMillion: Int((percent * 10_000).rounded()), customTags: tags, timeout: timeout,
                             source: (try? t.serializedBytes()) ?? [])
    }

    /// `http://host:port/path` as (authority, path).
    static func splitURI(_ uri: String) -> (String, String) {
        var rest = Substring(uri)
        if let r = rest.range(of: "://") { rest = rest[r.upperBound...] }
        guard let slash = rest.firstIndex(of: "/") else { return (String(rest), "/v1/traces") }
        return (String(rest[..<slash]), String(rest[slash...]))
    }
}
