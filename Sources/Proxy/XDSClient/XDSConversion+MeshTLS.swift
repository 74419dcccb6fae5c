import Foundation
import EnvoyAPI
import ProxyConfig
import SwiftProtobuf

/// Mesh mTLS in xDS: listener filter chains by transport protocol, downstream and upstream TLS contexts whose
/// certificate and root are the SDS secrets `default` and `ROOTCA` (weft proxy's own identity), auto-mTLS
/// socket matches, and the endpoint metadata they match.
extension XDSConversion {
    typealias DownstreamTlsContext = Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext
    typealias UpstreamTlsContext = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext
    typealias CommonTlsContext = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext
    typealias TlsInspector = Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector

    static let certificateSecret = MeshTLSName.certificateSecret
    static let rootSecret = MeshTLSName.rootSecret

    /// Only the tls_inspector (it tells TLS from plaintext on the first bytes).
    static func listenerFilters(_ filters: [Envoy_Config_Listener_V3_ListenerFilter]) throws {
        _ = try each("listener_filters", filters) { f -> Bool in
            guard case let .typedConfig(any)? = f.configType, Convert.typeName(any) == TlsInspector.protoMessageName else {
                throw FieldError("only the tls_inspector listener filter is supported, got '\(f.name)'")
            }
            return true
        }
    }

    /// One filter chain: an optional connection limit, network RBAC filters, then one HTTP connection manager or TCP
    /// proxy. `tls`: the chain matches `transport_protocol: tls` and carries the mesh's TLS context (checked by the
    /// caller).
    static func chainFields(_ chain: Envoy_Config_Listener_V3_FilterChain, _ name: String, _ host: String, _ port: Int,
                            tls: Bool) throws -> ConvertedListener {
        if chain.hasFilterChainMatch {
            let m = chain.filterChainMatch
            guard m.transportProtocol == (tls ? "tls" : "raw_buffer"), m.serverNames.isEmpty, m.applicationProtocols.isEmpty,
                  !m.hasDestinationPort, m.sourcePorts.isEmpty else {
                throw FieldError("only a transport_protocol match (`tls` or `raw_buffer`) is supported", at: ["filter_chain_match"])
            }
        }
        if !tls && chain.hasTransportSocket { throw FieldError("TLS is only supported on a `tls` chain", at: ["transport_socket"]) }
        var maxConnections: Int?
        var filters = chain.filters[...]
        if let first = filters.first, filters.count > 1, case let .typedConfig(any)? = first.configType,
           Convert.typeName(any) == ConnectionLimit.protoMessageName {
            maxConnections = try field("filters[0].typed_config") { try connectionLimit(try Convert.unpack(any, as: ConnectionLimit.self)) }
            filters = filters.dropFirst()
        }
        var networkRBAC: [RBACFilterConfig] = []
        while let f = filters.first, filters.count > 1, case let .typedConfig(any)? = f.configType,
              Convert.typeName(any) == NetworkRBAC.protoMessageName {
            let i = chain.filters.count - filters.count
            networkRBAC.append(try field("filters[\(i)].typed_config") { try XDSConversion.networkRBAC(any) })
            filters = filters.dropFirst()
        }
        let at = chain.filters.count - filters.count
        guard filters.count == 1 else {
            throw FieldError("need one HTTP connection manager or tcp_proxy, optionally after a connection_limit and network RBAC filters; got \(chain.filters.count) filters", at: ["filters"])
        }
        var converted = try field("filters[\(at)]") {
            guard case let .typedConfig(any)? = filters.first!.configType else { throw FieldError("typed_config is missing") }
            return try field("typed_config") {
                switch Convert.typeName(any) {
                case HCM.protoMessageName: return try httpListener(name, host, port, try Convert.unpack(any, as: HCM.self), tls: tls)
                case TcpProxy.protoMessageName: return try tcpListener(name, host, port, try Convert.unpack(any, as: TcpProxy.self))
                default: throw FieldError("unsupported network filter '\(Convert.typeName(any))' (need an HTTP connection manager or tcp_proxy)")
                }
            }
        }
        converted.config.maxConnections = maxConnections
        converted.config.networkRBAC = networkRBAC
        if networkRBAC.contains(where: \.readsServerName) { converted.config.readsServerName = true }
        return converted
    }

    /// Envoy's x-forwarded-client-cert handling: SANITIZE (the default) everywhere, SANITIZE_SET with `uri` on a
    /// `tls` chain. Returns whether the caller's SPIFFE ID is set.
    static func forwardClientCert(_ hcm: HCM, tls: Bool) throws -> Bool {
        switch hcm.forwardClientCertDetails {
        case .sanitize: return false
        case .sanitizeSet where tls:
            let d = hcm.setCurrentClientCertDetails
            guard d.uri, !d.cert, !d.chain, !d.dns, !d.subject.value else {
                throw FieldError("only `uri` is supported", at: ["set_current_client_cert_details"])
            }
            return true
        default:
            throw FieldError("\(hcm.forwardClientCertDetails) is not supported (SANITIZE, or SANITIZE_SET on a tls chain)",
                             at: ["forward_client_cert_details"])
        }
    }

    /// The server side of mesh mTLS: the proxy's own certificate and root by SDS, a client certificate required.
    /// Returns the ALPN protocols offered.
    static func downstreamTLS(_ socket: Envoy_Config_Core_V3_TransportSocket) throws -> [String] {
        guard case let .typedConfig(any)? = socket.configType, Convert.typeName(any) == DownstreamTlsContext.protoMessageName else {
            throw FieldError("a `tls` chain needs a DownstreamTlsContext")
        }
        let ctx = try field("typed_config") { try Convert.unpack(any, as: DownstreamTlsContext.self) }
        return try field("typed_config") {
            guard ctx.requireClientCertificate.value else {
                throw FieldError("mesh mTLS requires the client certificate", at: ["require_client_certificate"])
            }
            if ctx.hasRequireSni || ctx.hasSessionTimeout { throw FieldError("only the mesh TLS settings are supported") }
            return try field("common_tls_context") { try meshCommon(ctx.commonTlsContext).alpn }
        }
    }

    /// A common TLS context that uses the mesh identity: certificate `default`, root `ROOTCA`, optionally the URI
    /// SANs the peer must carry.
    static func meshCommon(_ c: CommonTlsContext) throws -> (alpn: [String], identities: [String]) {
        guard c.tlsCertificates.isEmpty, c.tlsCertificateSdsSecretConfigs.count == 1,
              c.tlsCertificateSdsSecretConfigs[0].name == certificateSecret else {
            throw FieldError("weft proxy serves only the mesh identity (SDS secret '\(certificateSecret)')", at: ["tls_certificate_sds_secret_configs"])
        }
        var identities: [String] = []
        switch c.validationContextType {
        case let .validationContextSdsSecretConfig(s)? where s.name == rootSecret: break
        case let .combinedValidationContext(cv)? where cv.validationContextSdsSecretConfig.name == rootSecret:
            let v = cv.defaultValidationContext
            guard !v.hasTrustedCa, v.verifyCertificateHash.isEmpty, v.verifyCertificateSpki.isEmpty, !v.hasCrl else {
                throw FieldError("only URI SAN matchers are supported", at: ["combined_validation_context", "default_validation_context"])
            }
            identities = try field("combined_validation_context.default_validation_context") {
                try each("match_typed_subject_alt_names", v.matchTypedSubjectAltNames) { m -> String in
                guard m.sanType == .uri, case let .exact(id)? = m.matcher.matchPattern, !m.matcher.ignoreCase else {
                    throw FieldError("only exact URI SAN matchers are supported")
                }
                return id
            }
            }
        default:
            throw FieldError("weft proxy validates peers only against the mesh root (SDS secret '\(rootSecret)')", at: ["validation_context_type"])
        }
        return (c.alpnProtocols, identities)
    }

    /// The client side: `transport_socket` (always mTLS, ISTIO_MUTUAL) or one `tlsMode: istio` socket match (auto mTLS).
    static func upstreamTLS(_ c: Envoy_Config_Cluster_V3_Cluster) throws -> UpstreamMeshTLS? {
        if c.hasTransportSocket {
            guard c.transportSocketMatches.isEmpty else {
                throw FieldError("set transport_socket or transport_socket_matches, not both", at: ["transport_socket_matches"])
            }
            return try field("transport_socket") { try upstreamContext(c.transportSocket, onlyMarked: false) }
        }
        guard !c.transportSocketMatches.isEmpty else { return nil }
        guard c.transportSocketMatches.count == 1 else {
            throw FieldError("one socket match (tlsMode: istio) is supported", at: ["transport_socket_matches"])
        }
        let m = c.transportSocketMatches[0]
        guard m.match.fields.count == 1, case .stringValue(MeshTLSName.tlsModeIstio)? = m.match.fields[MeshTLSName.tlsModeField]?.kind else {
            throw FieldError("only the match {tlsMode: istio} is supported", at: ["transport_socket_matches[0]", "match"])
        }
        return try field("transport_socket_matches[0].transport_socket") { try upstreamContext(m.transportSocket, onlyMarked: true) }
    }

    static func upstreamContext(_ socket: Envoy_Config_Core_V3_TransportSocket, onlyMarked: Bool) throws -> UpstreamMeshTLS {
        guard case let .typedConfig(any)? = socket.configType, Convert.typeName(any) == UpstreamTlsContext.protoMessageName else {
            throw FieldError("upstream TLS needs an UpstreamTlsContext")
        }
        let ctx = try field("typed_config") { try Convert.unpack(any, as: UpstreamTlsContext.self) }
        let common = ctx.commonTlsContext
        if common.tlsCertificateSdsSecretConfigs.isEmpty && !onlyMarked {
            let files = try field("typed_config.common_tls_context") { try fileCommon(common) }
            return UpstreamMeshTLS(identities: [], alpn: common.alpnProtocols, sni: ctx.sni, onlyMarkedEndpoints: false, files: files)
        }
        let (alpn, ids) = try field("typed_config.common_tls_context") { try meshCommon(common) }
        return UpstreamMeshTLS(identities: ids, alpn: alpn, sni: ctx.sni, onlyMarkedEndpoints: onlyMarked)
    }

    /// DestinationRule SIMPLE / MUTUAL: certificate files (read when a connection needs them; refused now when
    /// they cannot be read, as Envoy refuses the cluster).
    static func fileCommon(_ c: Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext) throws -> UpstreamTLSFiles {
        func path(_ d: Envoy_Config_Core_V3_DataSource, _ name: String) throws -> String {
            guard case let .filename(f)? = d.specifier, !f.isEmpty else { throw FieldError("only a filename is supported", at: [name]) }
            guard FileManager.default.isReadableFile(atPath: f) else { throw FieldError("cannot read '\(f)'", at: [name]) }
            return f
        }
        var files = UpstreamTLSFiles(caCertificates: nil, certificateChain: nil, privateKey: nil)
        guard c.tlsCertificates.count <= 1 else { throw FieldError("one client certificate is supported", at: ["tls_certificates"]) }
        if let cert = c.tlsCertificates.first {
            files.certificateChain = try path(cert.certificateChain, "tls_certificates[0].certificate_chain")
            files.privateKey = try path(cert.privateKey, "tls_certificates[0].private_key")
        }
        switch c.validationContextType {
        case nil: break
        case let .validationContext(v)?:
            guard v.matchTypedSubjectAltNames.isEmpty, v.verifyCertificateHash.isEmpty, v.verifyCertificateSpki.isEmpty, !v.hasCrl else {
                throw FieldError("only trusted_ca is supported", at: ["validation_context"])
            }
            if v.hasTrustedCa { files.caCertificates = try path(v.trustedCa, "validation_context.trusted_ca") }
        default:
            throw FieldError("only an inline validation_context with trusted_ca is supported", at: ["validation_context_type"])
        }
        return files
    }

    /// `filter_metadata["envoy.transport_socket_match"].tlsMode == "istio"`.
    static func marksMeshTLS(_ m: Envoy_Config_Core_V3_Metadata) -> Bool {
        let mode = m.filterMetadata[MeshTLSName.socketMatchKey]?.fields[MeshTLSName.tlsModeField]?.kind
        if case .stringValue(MeshTLSName.tlsModeIstio)? = mode { return true }
        return false
    }
}
