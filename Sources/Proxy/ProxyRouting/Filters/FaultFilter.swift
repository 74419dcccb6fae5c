import ProxyConfig

/// Envoy's fault filter (`envoy.filters.http.fault`), per route: aborts a share of requests with an HTTP status
/// (or, for gRPC callers, a gRPC status in a trailers-only answer), and delays a share of the others.
public struct FaultFilter: HTTPFilter {
    public static let name = FaultPolicy.filterName
    public let policy: FaultPolicy

    public init?(settings: any HTTPFilterSettings) {
        guard let p = settings as? FaultPolicy, p.abortPerMillion > 0 || (p.delay != nil && p.delayPerMillion > 0) else { return nil }
        policy = p
    }

    public func decodeHeaders(_ request: inout FilterRequest, now: ContinuousClock.Instant, random: (Int) -> Int) -> FilterVerdict {
        let f = policy
        if f.abortPerMillion > 0, random(1_000_000) < f.abortPerMillion {
            if let g = f.abortGRPCStatus, request.isGRPC {
                // As Envoy: a gRPC answer with the status in the headers (trailers-only), no body.
                let h: HeaderList = ["content-type": "application/grpc", "grpc-status": String(g), "grpc-message": "fault filter abort"]
                return .reply(LocalReply(status: 200, flag: .faultAbort, body: "", headers: h))
            }
            if f.abortGRPCStatus != nil {
                // A gRPC abort met by a plain HTTP request: Envoy answers 200 with the text and no gRPC status.
                return .reply(LocalReply(status: 200, flag: .faultAbort, body: "fault filter abort"))
            }
            return .reply(LocalReply(status: f.abortStatus ?? 503, flag: .faultAbort, body: "fault filter abort\n"))
        }
        if let d = f.delay, f.delayPerMillion > 0, random(1_000_000) < f.delayPerMillion {
            return .delay(d)
        }
        return .proceed
    }
}
