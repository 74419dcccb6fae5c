/// Envoy's response flags, sent to the caller in `x-weft-response-flags` so one 503 can be told from another.
public enum ResponseFlag: String, Sendable {
    case noRoute = "NR"
    case noCluster = "NC"
    case noHealthyUpstream = "UH"
    case upstreamConnectFailure = "UF"
    case upstreamTimeout = "UT"
    case upstreamOverflow = "UO"
    case upstreamReset = "UC"
    case faultAbort = "FI"
    case delayInjected = "DI"
    case upstreamRetryLimit = "URX"
    case rateLimited = "RL"
    case streamIdleTimeout = "SI"
    case rbacDenied = "RBAC"

    public var explanation: String {
        switch self {
        case .noRoute: return "no route matched"
        case .noCluster: return "the route's cluster is not known"
        case .noHealthyUpstream: return "no healthy upstream"
        case .upstreamConnectFailure: return "upstream connect failure"
        case .upstreamTimeout: return "upstream request timeout"
        case .upstreamOverflow: return "upstream overflow (circuit breaker)"
        case .upstreamReset: return "upstream connection reset before response"
        case .faultAbort: return "fault injected"
        case .delayInjected: return "delay injected"
        case .upstreamRetryLimit: return "upstream retry limit exceeded"
        case .rateLimited: return "local rate limit"
        case .streamIdleTimeout: return "stream idle timeout"
        case .rbacDenied: return "denied by an authorization policy (RBAC)"
        }
    }
}
