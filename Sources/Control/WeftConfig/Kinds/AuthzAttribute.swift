/// The attributes an AuthorizationPolicy `when` condition may test (Istio's "Authorization Policy Conditions"),
/// parsed from the key once: validation refuses keys it does not know, translation writes one matcher per kind.
public enum AuthzAttribute: Hashable, Sendable {
    case requestHeader(String)
    case sourceIP, remoteIP, sourceNamespace, sourcePrincipal
    case requestPrincipal, requestAudiences, requestPresenter
    /// `request.auth.claims[a][b]`: the path into the token's claims.
    case requestClaim([String])
    case destinationIP, destinationPort, connectionSNI

    /// The keys as users write them, for error messages.
    public static let documented = ["request.headers[NAME]", "source.ip", "remote.ip", "source.namespace", "source.principal",
                                    "request.auth.principal", "request.auth.audiences", "request.auth.presenter",
                                    "request.auth.claims[NAME]", "destination.ip", "destination.port", "connection.sni"]

    public init?(key: String) {
        switch key {
        case "source.ip": self = .sourceIP
        case "remote.ip": self = .remoteIP
        case "source.namespace": self = .sourceNamespace
        case "source.principal": self = .sourcePrincipal
        case "request.auth.principal": self = .requestPrincipal
        case "request.auth.audiences": self = .requestAudiences
        case "request.auth.presenter": self = .requestPresenter
        case "destination.ip": self = .destinationIP
        case "destination.port": self = .destinationPort
        case "connection.sni": self = .connectionSNI
        default:
            if let name = Self.brackets(key, after: "request.headers"), name.count == 1 {
                self = .requestHeader(name[0].lowercased())
            } else if let path = Self.brackets(key, after: "request.auth.claims") {
                self = .requestClaim(path)
            } else {
                return nil
            }
        }
    }

    /// `prefix[a][b]` -> ["a", "b"]; nil unless every bracket holds a non-empty name and nothing else follows.
    static func brackets(_ key: String, after prefix: String) -> [String]? {
        guard key.hasPrefix(prefix + "[") else { return nil }
        var rest = Substring(key.dropFirst(prefix.count))
        var out: [String] = []
        while !rest.isEmpty {
            guard rest.first == "[", let close = rest.firstIndex(of: "]") else { return nil }
            let name = rest[rest.index(after: rest.startIndex)..<close]
            guard !name.isEmpty, !name.contains("[") else { return nil }
            out.append(String(name))
            rest = rest[rest.index(after: close)...]
        }
        return out.isEmpty ? nil : out
    }

    /// Whether the attribute is known from the connection alone (a TCP service can be checked with it).
    public var isL4: Bool {
        switch self {
        case .sourceIP, .remoteIP, .sourceNamespace, .sourcePrincipal, .destinationIP, .destinationPort, .connectionSNI: return true
        default: return false
        }
    }
}
