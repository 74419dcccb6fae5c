/// Istio PeerAuthentication (`security.istio.io/v1`, `v1beta1`): whether a workload's sidecar accepts mutual TLS,
/// plaintext or both on its inbound ports. Mesh-wide in the root namespace, per namespace, or per workload with
/// `selector`, with per-port overrides (`portLevelMtls`) on workload policies.
public struct PeerAuthentication: Hashable, Sendable {
    public enum Mode: String, CaseIterable, Sendable {
        /// Inherit from the parent policy (namespace, then mesh); PERMISSIVE when nothing is set anywhere.
        case UNSET
        /// Plaintext only.
        case DISABLE
        /// mTLS and plaintext on the same port.
        case PERMISSIVE
        /// mTLS only.
        case STRICT
    }

    public static let apiVersions: Set<String> = ["security.istio.io/v1", "security.istio.io/v1beta1"]

    /// `selector.matchLabels`; nil when the policy has no selector (namespace- or mesh-wide).
    public var selector: [String: String]?
    public var mode: Mode
    /// Per-port modes by the workload's port number.
    public var portModes: [Int: Mode]

    public init(selector: [String: String]? = nil, mode: Mode = .UNSET, portModes: [Int: Mode] = [:]) {
        self.selector = selector
        self.mode = mode
        self.portModes = portModes
    }

    static func decode(_ r: ObjectReader) -> PeerAuthentication {
        defer { r.finish() }
        var pa = PeerAuthentication()
        if let s = r.object("selector") {
            pa.selector = s.stringMap("matchLabels")
            s.finish()
        }
        if let m = r.object("mtls") {
            pa.mode = m.enumValue("mode", Mode.self) ?? .UNSET
            m.finish()
        }
        for (key, mtls) in r.objectMap("portLevelMtls", { m -> Mode? in
            defer { m.finish() }
            return m.enumValue("mode", Mode.self) ?? .UNSET
        }) {
            guard let port = Int(key), (1...65535).contains(port) else {
                r.ctx.error(r.sub("portLevelMtls.\(key)"), "port '\(key)' must be a number in the range 1..65535")
                continue
            }
            pa.portModes[port] = mtls
        }
        return pa
    }
}
