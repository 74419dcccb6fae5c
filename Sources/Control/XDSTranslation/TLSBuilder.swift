import EnvoyAPI
import SwiftProtobuf
import WeftConfig

/// Upstream TLS from a DestinationRule's `tls` (SIMPLE and MUTUAL with files; ISTIO_MUTUAL needs the mesh CA,
/// which a later issue adds, so it is left as plaintext for now).
enum TLSBuilder {
    static func upstream(_ tls: ClientTLS, host: String) -> Envoy_Config_Core_V3_TransportSocket? {
        guard tls.mode == .SIMPLE || tls.mode == .MUTUAL else { return nil }
        var common = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext()
        if tls.mode == .MUTUAL, let cert = tls.clientCertificate, let key = tls.privateKey {
            var c = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
            c.certificateChain = file(cert)
            c.privateKey = file(key)
            common.tlsCertificates = [c]
        }
        if let ca = tls.caCertificates, !tls.insecureSkipVerify {
            var v = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
            v.trustedCa = file(ca)
            common.validationContext = v
        }
        var ctx = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
        ctx.commonTlsContext = common
        ctx.sni = tls.sni ?? host
        var socket = Envoy_Config_Core_V3_TransportSocket()
        socket.name = FilterName.tls
        socket.typedConfig = Proto.any(ctx)
        return socket
    }

    static func file(_ path: String) -> Envoy_Config_Core_V3_DataSource {
        var d = Envoy_Config_Core_V3_DataSource()
        d.filename = path
        return d
    }
}
