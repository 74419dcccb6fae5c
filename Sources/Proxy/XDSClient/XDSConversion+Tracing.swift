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
        var percent = t.hasRandomSampling ? t.randomSampling.value : 100
        guard (0...100).contains(percent) else { throw FieldError("must be between 0 and 100", at: ["random_sampling"]) }
        var honourParent = false
        if otel.hasSampler {
            let (p, parent) = try field("provider.typed_config.sampler") { try sampler(otel.sampler) }
            percent = p
            honourParent = parent
        }
        let tags = try each("custom_tags", t.customTags) { c -> (tag: String, value: TracingConfig.TagValue) in
            switch c.type {
            case let .literal(l)?: return (c.tag, .literal(l.value))
            case let .environment(e)?: return (c.tag, .environment(e.name, defaultValue: e.defaultValue))
            case let .requestHeader(h)?: return (c.tag, .requestHeader(h.name.lowercased(), defaultValue: h.defaultValue))
            case nil: throw FieldError("a custom tag needs a value", at: ["type"])
            }
        }
        return TracingConfig(cluster: cluster, export: export, serviceName: otel.serviceName.isEmpty ? "weft-proxy" : otel.serviceName,
                             samplingPerMillion: Int((percent * 10_000).rounded()), honourParent: honourParent, customTags: tags, timeout: timeout,
                             source: (try? t.serializedBytes()) ?? [])
    }

    static let parentBasedType = "type.googleapis.com/envoy.extensions.tracers.opentelemetry.samplers.v3.ParentBasedSamplerConfig"
    static let ratioType = "type.googleapis.com/envoy.extensions.tracers.opentelemetry.samplers.v3.TraceIdRatioBasedSamplerConfig"
    static let alwaysOnType = "type.googleapis.com/envoy.extensions.tracers.opentelemetry.samplers.v3.AlwaysOnSamplerConfig"

    /// The OpenTelemetry samplers weft proxy runs: always on, trace id ratio, and either as parent-based's wrapped
    /// sampler. (percent for new traces, whether the caller's flag decides.)
    static func sampler(_ s: Envoy_Config_Core_V3_TypedExtensionConfig) throws -> (Double, Bool) {
        switch s.typedConfig.typeURL {
        case alwaysOnType: return (100, false)
        case ratioType:
            let r = try field("typed_config") { try Envoy_Extensions_Tracers_Opentelemetry_Samplers_V3_TraceIdRatioBasedSamplerConfig(unpackingAny: s.typedConfig) }
            return (fraction(r.samplingPercentage), false)
        case parentBasedType:
            let p = try field("typed_config") { try Envoy_Extensions_Tracers_Opentelemetry_Samplers_V3_ParentBasedSamplerConfig(unpackingAny: s.typedConfig) }
            guard p.hasWrappedSampler, p.wrappedSampler.typedConfig.typeURL != parentBasedType else {
                throw FieldError("needs a wrapped always_on or trace_id_ratio_based sampler", at: ["typed_config", "wrapped_sampler"])
            }
            let (percent, _) = try field("typed_config.wrapped_sampler") { try sampler(p.wrappedSampler) }
            return (percent, true)
        default:
            throw FieldError("unsupported sampler '\(s.typedConfig.typeURL)'", at: ["typed_config"])
        }
    }

    /// A FractionalPercent as a percentage.
    static func fraction(_ f: Envoy_Type_V3_FractionalPercent) -> Double {
        let d: Double
        switch f.denominator {
        case .hundred: d = 100
        case .tenThousand: d = 10_000
        case .million: d = 1_000_000
        case .UNRECOGNIZED: d = 100
        }
        return min(100, Double(f.numerator) / d * 100)
    }

    /// `http://host:port/path` as (authority, path).
    static func splitURI(_ uri: String) -> (String, String) {
        var rest = Substring(uri)
        if let r = rest.range(of: "://") { rest = rest[r.upperBound...] }
        guard let slash = rest.firstIndex(of: "/") else { return (String(rest), "/v1/traces") }
        return (String(rest[..<slash]), String(rest[slash...]))
    }
}
