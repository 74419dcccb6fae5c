import EnvoyAPI
import ProxyConfig
import ProxyRouting
import SwiftProtobuf

/// The HTTP fault filter's config, per route (typed_per_filter_config) or on the listener's filter.
extension XDSConversion {
    static func faultPolicy(_ any: Google_Protobuf_Any) throws -> FaultPolicy {
        let f = try Convert.unpack(any, as: Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault.self)
        // Conditions that narrow which requests get the fault cannot be expressed; refusing beats faulting everyone.
        if !f.upstreamCluster.isEmpty { throw FieldError("upstream_cluster is not supported", at: ["upstream_cluster"]) }
        if !f.headers.isEmpty { throw FieldError("headers is not supported", at: ["headers"]) }
        if !f.downstreamNodes.isEmpty { throw FieldError("downstream_nodes is not supported", at: ["downstream_nodes"]) }
        var p = FaultPolicy()
        if f.hasDelay {
            try field("delay") {
                switch f.delay.faultDelaySecifier {
                case let .fixedDelay(d)?: p.delay = try field("fixed_delay") { try Convert.duration(d) }
                case .headerDelay?: throw FieldError("header_delay is not supported", at: ["header_delay"])
                case nil: throw FieldError("a delay needs fixed_delay")
                }
                p.delayPerMillion = try field("percentage") { try Convert.perMillion(f.delay.percentage) }
            }
        }
        if f.hasAbort {
            try field("abort") {
                switch f.abort.errorType {
                case let .httpStatus(s)?:
                    guard (200...599).contains(s) else { throw FieldError("http_status \(s) is not 200-599", at: ["http_status"]) }
                    p.abortStatus = Int(s)
                case let .grpcStatus(s)?: p.abortGRPCStatus = Int(s)
                case .headerAbort?: throw FieldError("header_abort is not supported", at: ["header_abort"])
                case nil: throw FieldError("an abort needs http_status or grpc_status")
                }
                p.abortPerMillion = try field("percentage") { try Convert.perMillion(f.abort.percentage) }
            }
        }
        // max_active_faults is a safety cap, left to the data path.
        return p
    }

    /// True when a listener-level fault filter config would inject faults for every route.
    static func faultIsEmpty(_ any: Google_Protobuf_Any) throws -> Bool {
        let p = try faultPolicy(any)
        return p.delay == nil && p.abortStatus == nil && p.abortGRPCStatus == nil
    }
}
