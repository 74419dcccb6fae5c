import EnvoyAPI
import SwiftProtobuf
import WeftConfig
import WeftCore
import WeftModel

/// Tracing of an HTTP listener: Envoy's OpenTelemetry tracer exporting over OTLP (gRPC, or HTTP/protobuf when the
/// provider says `http`) to a cluster of its own that reaches the collector, sampling as Telemetry or the mesh
/// says, with Telemetry's custom tags. The span kind follows the listener's direction (inbound: server).
enum TracingBuilder {
    static let tracerName = "envoy.tracers.opentelemetry"

    /// The cluster that reaches a provider's collector: `opentelemetry|NAME`.
    static func clusterName(provider: String) -> String { "opentelemetry|\(provider)" }

    static func tracing(_ t: TelemetryPolicies.Tracing, serviceName: String) -> ListenerBuilder.HCM.Tracing {
        var otel = Envoy_Config_Trace_V3_OpenTelemetryConfig()
        otel.serviceName = serviceName
        let cluster = clusterName(provider: t.provider)
        if let path = t.collector.httpPath {
            var uri = Envoy_Config_Core_V3_HttpUri()
            uri.uri = "http://\(HostPort(host: t.collector.service, port: t.collector.port))\(path)"
            uri.cluster = cluster
            uri.timeout = Proto.duration(nanos: t.collector.timeoutNanos)
            var http = Envoy_Config_Core_V3_HttpService()
            http.httpUri = uri
            otel.httpService = http
        } else {
            var g = Envoy_Config_Core_V3_GrpcService()
            var eg = Envoy_Config_Core_V3_GrpcService.EnvoyGrpc()
            eg.clusterName = cluster
            g.envoyGrpc = eg
            g.timeout = Proto.duration(nanos: t.collector.timeoutNanos)
            otel.grpcService = g
        }
        // Envoy's own random sampling ignores a caller's decision; a parent-based sampler honours it and samples
        // new traces at the Telemetry's rate (the connection manager then samples everything it is offered).
        otel.sampler = sampler(percent: t.sampling)
        var provider = Envoy_Config_Trace_V3_Tracing.Http()
        provider.name = tracerName
        provider.typedConfig = Proto.any(otel)
        var out = ListenerBuilder.HCM.Tracing()
        out.provider = provider
        out.randomSampling = Proto.percent(100)
        out.customTags = t.customTags.map { tag in
            var c = Envoy_Type_Tracing_V3_CustomTag()
            c.tag = tag.tag
            switch tag.source {
            case let .literal(v):
                var l = Envoy_Type_Tracing_V3_CustomTag.Literal()
                l.value = v
                c.literal = l
            case let .environment(name, d):
                var e = Envoy_Type_Tracing_V3_CustomTag.Environment()
                e.name = name
                e.defaultValue = d ?? ""
                c.environment = e
            case let .header(name, d):
                var h = Envoy_Type_Tracing_V3_CustomTag.Header()
                h.name = name
                h.defaultValue = d ?? ""
                c.requestHeader = h
            }
            return c
        }
        return out
    }

    static let parentBased = "envoy.tracers.opentelemetry.samplers.parent_based"
    static let traceIDRatio = "envoy.tracers.opentelemetry.samplers.trace_id_ratio_based"

    /// parent_based(trace_id_ratio_based(percent)).
    static func sampler(percent: Double) -> Envoy_Config_Core_V3_TypedExtensionConfig {
        var ratio = Envoy_Extensions_Tracers_Opentelemetry_Samplers_V3_TraceIdRatioBasedSamplerConfig()
        ratio.samplingPercentage = Proto.fraction(percent)
        var inner = Envoy_Config_Core_V3_TypedExtensionConfig()
        inner.name = traceIDRatio
        inner.typedConfig = Proto.any(ratio)
        var parent = Envoy_Extensions_Tracers_Opentelemetry_Samplers_V3_ParentBasedSamplerConfig()
        parent.wrappedSampler = inner
        var outer = Envoy_Config_Core_V3_TypedExtensionConfig()
        outer.name = parentBased
        outer.typedConfig = Proto.any(parent)
        return outer
    }

    /// One cluster per collector the proxy's listeners export to: static for an IP address, strict DNS for a name;
    /// HTTP/2 for OTLP over gRPC.
    static func clusters(_ tracings: [TelemetryPolicies.Tracing]) -> [Envoy_Config_Cluster_V3_Cluster] {
        var seen: Set<String> = []
        var out: [Envoy_Config_Cluster_V3_Cluster] = []
        for t in tracings where seen.insert(t.provider).inserted {
            var c = Envoy_Config_Cluster_V3_Cluster()
            c.name = clusterName(provider: t.provider)
            c.connectTimeout = Proto.seconds(1)
            c.type = IPAddressText.isIP(t.collector.service) ? .static : .strictDns
            var ep = Envoy_Config_Endpoint_V3_Endpoint()
            ep.address = Proto.address(t.collector.service, t.collector.port)
            var lb = Envoy_Config_Endpoint_V3_LbEndpoint()
            lb.endpoint = ep
            var group = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
            group.lbEndpoints = [lb]
            var la = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
            la.clusterName = c.name
            la.endpoints = [group]
            c.loadAssignment = la
            if t.collector.httpPath == nil {
                var o = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
                var explicit = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.ExplicitHttpConfig()
                explicit.http2ProtocolOptions = Envoy_Config_Core_V3_Http2ProtocolOptions()
                o.explicitHTTPConfig = explicit
                c.typedExtensionProtocolOptions[FilterName.httpProtocolOptions] = Proto.any(o)
            }
            out.append(c)
        }
        return out
    }
}
