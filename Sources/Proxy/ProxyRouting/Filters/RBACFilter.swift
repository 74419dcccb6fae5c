import ProxyConfig

/// Envoy's RBAC filter (`envoy.filters.http.rbac`), listener-wide: the listener's instances in their order, each
/// with its shadow and enforced rules (see RBACCheck). A request an instance denies is answered 403
/// `RBAC: access denied` with the RBAC response flag; later instances and filters do not run.
public struct RBACFilter: HTTPFilter {
    public static let name = RBACSettings.filterName
    public let settings: RBACSettings

    public init?(settings: any HTTPFilterSettings) {
        guard let s = settings as? RBACSettings, !s.instances.isEmpty else { return nil }
        self.settings = s
    }

    public static let denied = LocalReply(status: 403, flag: .rbacDenied, body: "RBAC: access denied")

    public func decodeHeaders(_ request: inout FilterRequest, now: ContinuousClock.Instant, random: (Int) -> Int) -> FilterVerdict {
        for instance in settings.instances {
            if RBACCheck.run(instance, request, worker: request.worker, subject: "request", describe: { Self.describe(request) }) != nil {
                return .reply(Self.denied)
            }
        }
        return .proceed
    }

    static func describe(_ r: FilterRequest) -> [String: String] {
        var fields = RBACCheck.describe(r.connection)
        fields["method"] = r.method
        fields["authority"] = r.authority
        fields["path"] = String(r.path)
        return fields
    }
}
