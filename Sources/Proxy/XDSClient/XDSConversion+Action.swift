import EnvoyAPI
import ProxyConfig
import ProxyRouting

/// Route actions and their policies: weighted clusters, rewrites, timeouts, retries, mirrors, hashing,
/// redirects, direct responses and per-route faults.
extension XDSConversion {
    typealias Action = Envoy_Config_Route_V3_RouteAction

    /// Envoy's route timeout when the field is absent.
    static let defaultRouteTimeout: Duration = .seconds(15)

    static func forwardAction(_ a: Action) throws -> ForwardAction {
        if a.hasMetadataMatch { throw FieldError("metadata_match is not supported", at: ["metadata_match"]) }
        let clusters: [WeightedCluster]
        switch a.clusterSpecifier {
        case let .cluster(name)?:
            guard !name.isEmpty else { throw FieldError("cluster name is empty", at: ["cluster"]) }
            clusters = [WeightedCluster(name: name)]
        case let .weightedClusters(wc)?: clusters = try field("weighted_clusters") { try weightedClusters(wc) }
        case .clusterHeader?: throw FieldError("cluster_header is not supported", at: ["cluster_header"])
        case nil: throw FieldError("a route action needs cluster or weighted_clusters")
        }
        var hostRewrite: String?
        switch a.hostRewriteSpecifier {
        case let .hostRewriteLiteral(h)?: hostRewrite = h
        case let .autoHostRewrite(b)? where b.value: throw FieldError("auto_host_rewrite is not supported", at: ["auto_host_rewrite"])
        case .hostRewriteHeader?: throw FieldError("host_rewrite_header is not supported", at: ["host_rewrite_header"])
        case .autoHostRewrite?, nil: break
        }
        let regexRewrite: (CompiledRegex, String)? = if a.hasRegexRewrite {
            try field("regex_rewrite") { (try field("pattern") { try regex(a.regexRewrite.pattern) }, a.regexRewrite.substitution) }
        } else { nil }
        // Absent timeout: Envoy's 15 s default; an explicit 0 disables it (nil here).
        let timeout: Duration = if a.hasTimeout { try field("timeout") { try Convert.duration(a.timeout) } } else { defaultRouteTimeout }
        let retry: RetryPolicy? = if a.hasRetryPolicy { try field("retry_policy") { try retryPolicy(a.retryPolicy) } } else { nil }
        // idle_timeout, max_stream_duration, priority and upgrade_configs (websocket) do not change where a request
        // goes; they are accepted and left to the data path's defaults.
        return ForwardAction(
            clusters: clusters, prefixRewrite: a.prefixRewrite.isEmpty ? nil : a.prefixRewrite, regexRewrite: regexRewrite,
            hostRewrite: hostRewrite, timeout: timeout == .zero ? nil : timeout, retry: retry,
            mirrors: try each("request_mirror_policies", a.requestMirrorPolicies, mirror),
            hashPolicies: try each("hash_policy", a.hashPolicy, hashPolicy))
    }

    static func weightedClusters(_ wc: Envoy_Config_Route_V3_WeightedCluster) throws -> [WeightedCluster] {
        guard !wc.clusters.isEmpty else { throw FieldError("no clusters", at: ["clusters"]) }
        let out = try each("clusters", wc.clusters) { c -> WeightedCluster in
            guard !c.name.isEmpty else { throw FieldError("cluster name is empty (cluster_header is not supported)", at: ["name"]) }
            if c.hasMetadataMatch { throw FieldError("metadata_match is not supported", at: ["metadata_match"]) }
            if !c.typedPerFilterConfig.isEmpty {
                throw FieldError("per-cluster filter config is not supported", at: ["typed_per_filter_config"])
            }
            return WeightedCluster(
                name: c.name, weight: Int(c.weight.value),
                requestHeaders: try headerEdits(add: c.requestHeadersToAdd, remove: c.requestHeadersToRemove, addField: "request_headers_to_add"),
                responseHeaders: try headerEdits(add: c.responseHeadersToAdd, remove: c.responseHeadersToRemove, addField: "response_headers_to_add"))
        }
        guard out.reduce(0, { $0 + $1.weight }) > 0 else { throw FieldError("weights sum to 0", at: ["clusters"]) }
        return out
    }

    static let retryConditions: Set<String> = ["5xx", "gateway-error", "connect-failure", "reset", "retriable-status-codes", "retriable-4xx"]
    /// Envoy conditions accepted but not expressible in RetryPolicy (gRPC status retries, refused-stream, ...).
    static let ignoredRetryConditions: Set<String> = [
        "refused-stream", "reset-before-request", "envoy-ratelimited", "http3-post-connect-failure",
        "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
    ]

    static func retryPolicy(_ p: Envoy_Config_Route_V3_RetryPolicy) throws -> RetryPolicy {
        if !p.retriableHeaders.isEmpty || !p.retriableRequestHeaders.isEmpty {
            throw FieldError("retriable_headers and retriable_request_headers are not supported", at: ["retriable_headers"])
        }
        var r = RetryPolicy(attempts: p.hasNumRetries ? Int(p.numRetries.value) : 1)
        var codes = false
        for raw in p.retryOn.split(separator: ",") {
            let c = raw.trimmingCharacters(in: .whitespaces)
            switch c {
            case "5xx": r.on5xx = true
            case "gateway-error": r.onGatewayError = true
            case "connect-failure": r.onConnectFailure = true
            case "reset": r.onReset = true
            case "retriable-status-codes": codes = true
            case "retriable-4xx": r.retriableStatusCodes.insert(409)
            case _ where ignoredRetryConditions.contains(c): break
            default: throw FieldError("unknown retry condition '\(c)'", at: ["retry_on"])
            }
        }
        if codes { r.retriableStatusCodes.formUnion(p.retriableStatusCodes.map(Int.init)) }
        if p.hasPerTryTimeout {
            let t = try field("per_try_timeout") { try Convert.duration(p.perTryTimeout) }
            r.perTryTimeout = t == .zero ? nil : t
        }
        if p.hasRetryBackOff {
            try field("retry_back_off") {
                let b = p.retryBackOff
                if b.hasBaseInterval { r.baseInterval = try field("base_interval") { try Convert.duration(b.baseInterval) } }
                r.maxInterval = if b.hasMaxInterval { try field("max_interval") { try Convert.duration(b.maxInterval) } } else { r.baseInterval * 10 }
            }
        }
        return r
    }

    static func mirror(_ m: Action.RequestMirrorPolicy) throws -> MirrorPolicy {
        guard !m.cluster.isEmpty else { throw FieldError("cluster is empty (cluster_header is not supported)", at: ["cluster"]) }
        let ppm = if m.hasRuntimeFraction {
            try field("runtime_fraction") { try field("default_value") { try Convert.perMillion(m.runtimeFraction.defaultValue) } }
        } else { 1_000_000 }
        return MirrorPolicy(cluster: m.cluster, fractionPerMillion: ppm)
    }

    static func hashPolicy(_ h: Action.HashPolicy) throws -> HashPolicy {
        switch h.policySpecifier {
        case let .header(x)?:
            if x.hasRegexRewrite { throw FieldError("regex_rewrite is not supported", at: ["header", "regex_rewrite"]) }
            return .header(x.headerName.lowercased())
        case let .cookie(c)?:
            return .cookie(name: c.name, ttl: c.hasTtl ? try Convert.duration(c.ttl) : nil, path: c.path.isEmpty ? nil : c.path)
        case let .connectionProperties(c)?:
            guard c.sourceIp else { throw FieldError("connection_properties without source_ip", at: ["connection_properties"]) }
            return .sourceIP
        case let .queryParameter(q)?: return .queryParameter(q.name)
        case nil: throw FieldError("a hash policy needs header, cookie, connection_properties or query_parameter")
        }
    }

    static func redirectAction(_ a: Envoy_Config_Route_V3_RedirectAction) throws -> RedirectAction {
        var r = RedirectAction(host: a.hostRedirect.isEmpty ? nil : a.hostRedirect, port: a.portRedirect == 0 ? nil : Int(a.portRedirect),
                               stripQuery: a.stripQuery)
        switch a.schemeRewriteSpecifier {
        case let .httpsRedirect(b)?: r.scheme = b ? "https" : nil
        case let .schemeRedirect(s)?: r.scheme = s.isEmpty ? nil : s
        case nil: break
        }
        switch a.pathRewriteSpecifier {
        case let .pathRedirect(p)?: r.path = p
        case let .prefixRewrite(p)?: r.prefixRewrite = p
        case .regexRewrite?: throw FieldError("regex_rewrite in a redirect is not supported", at: ["regex_rewrite"])
        case nil: break
        }
        switch a.responseCode {
        case .movedPermanently: r.status = 301
        case .found: r.status = 302
        case .seeOther: r.status = 303
        case .temporaryRedirect: r.status = 307
        case .permanentRedirect: r.status = 308
        case let .UNRECOGNIZED(v): throw FieldError("unknown response_code \(v)", at: ["response_code"])
        }
        return r
    }

    static func directResponse(_ d: Envoy_Config_Route_V3_DirectResponseAction) throws -> RouteAction {
        guard (200...599).contains(d.status) else { throw FieldError("status \(d.status) is not 200-599", at: ["status"]) }
        switch d.body.specifier {
        case let .inlineString(s)?: return .direct(status: Int(d.status), body: s)
        case let .inlineBytes(b)?: return .direct(status: Int(d.status), body: String(decoding: b, as: UTF8.self))
        case nil: return .direct(status: Int(d.status), body: "")
        case .filename?, .environmentVariable?:
            throw FieldError("only inline bodies are supported", at: ["body"])
        }
    }
}
