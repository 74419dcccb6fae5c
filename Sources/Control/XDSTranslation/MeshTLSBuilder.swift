import EnvoyAPI
import SwiftProtobuf
import WeftModel

/// Istio mutual TLS in Envoy's terms: the workload certificate and the mesh root come by SDS on the ADS stream
/// (secrets `default` and `ROOTCA`, as Istio names them); servers require a client certificate; clients check
/// the server's SPIFFE ID against the identities the control plane knows for the service.
enum MeshTLSBuilder {
    static let istioMatchName = "tlsMode-istio"

    typealias Common = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext

    static func sds(_ name: String) -> Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig {
        var s = Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig()
        s.name = name
        s.sdsConfig = Proto.adsSource()
        return s
    }

    /// The certificate and root by SDS; with `identities`, only those URI SANs are accepted from the peer.
    static func common(alpn: [String], identities: [String]) -> Common {
        var c = Common()
        c.tlsCertificateSdsSecretConfigs = [sds(MeshTLSName.certificateSecret)]
        if identities.isEmpty {
            c.validationContextSdsSecretConfig = sds(MeshTLSName.rootSecret)
        } else {
            var v = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
            v.matchTypedSubjectAltNames = identities.map { id in
                var m = Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher()
                m.sanType = .uri
                m.matcher = Proto.stringMatcher(exact: id)
                return m
            }
            var combined = Common.CombinedCertificateValidationContext()
            combined.defaultValidationContext = v
            combined.validationContextSdsSecretConfig = sds(MeshTLSName.rootSecret)
            c.combinedValidationContext = combined
        }
        c.alpnProtocols = alpn
        return c
    }

    /// The client side: mTLS to a mesh workload whose certificate carries one of `identities`.
    static func upstream(identities: [String], alpn: [String], sni: String) -> Envoy_Config_Core_V3_TransportSocket {
        var ctx = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
        ctx.commonTlsContext = common(alpn: alpn, identities: identities)
        ctx.sni = sni
        return socket(ctx)
    }

    /// The server side: a client certificate chaining to the mesh root is required.
    static func downstream(alpn: [String]) -> Envoy_Config_Core_V3_TransportSocket {
        var ctx = Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext()
        ctx.commonTlsContext = common(alpn: alpn, identities: [])
        ctx.requireClientCertificate = Google_Protobuf_BoolValue(true)
        return socket(ctx)
    }

    static func socket(_ message: any SwiftProtobuf.Message) -> Envoy_Config_Core_V3_TransportSocket {
        var s = Envoy_Config_Core_V3_TransportSocket()
        s.name = FilterName.tls
        s.typedConfig = Proto.any(message)
        return s
    }

    /// Auto mTLS: endpoints marked `tlsMode: istio` are reached over mTLS, the others in plaintext.
    static func autoMatch(identities: [String], alpn: [String], sni: String) -> Envoy_Config_Cluster_V3_Cluster.TransportSocketMatch {
        var m = Envoy_Config_Cluster_V3_Cluster.TransportSocketMatch()
        m.name = istioMatchName
        m.match = istioMode
        m.transportSocket = upstream(identities: identities, alpn: alpn, sni: sni)
        return m
    }

    /// `{tlsMode: istio}`: what auto mTLS's socket match selects, and what marked endpoints carry.
    static var istioMode: Google_Protobuf_Struct {
        Google_Protobuf_Struct(fields: [MeshTLSName.tlsModeField: Google_Protobuf_Value(stringValue: MeshTLSName.tlsModeIstio)])
    }

    /// The endpoint metadata auto mTLS matches.
    static func endpointMetadata() -> Envoy_Config_Core_V3_Metadata {
        var md = Envoy_Config_Core_V3_Metadata()
        md.filterMetadata[MeshTLSName.socketMatchKey] = istioMode
        return md
    }
}

extension ProxyNode {
    /// Envoy, and a weft proxy that says it speaks mesh mTLS; an older weft proxy would refuse the TLS config.
    public var speaksMeshTLS: Bool {
        userAgent != WeftClientFeature.userAgent || clientFeatures.contains(WeftClientFeature.meshTLS)
    }

    /// Whether the proxy needs its key and certificate sent by SDS: Envoy does (it cannot send a CSR); weft
    /// proxy makes its own key and asks the certificate service.
    public var takesKeyBySDS: Bool { speaksMeshTLS && userAgent != WeftClientFeature.userAgent }
}
