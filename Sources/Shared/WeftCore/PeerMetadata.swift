import Foundation

/// Who is on the other end of a request, as Istio's standard metrics label it (`source_workload`,
/// `destination_app`, ...): passed between sidecars in the `x-weft-peer-metadata` header, which weft control has
/// every proxy add (requests on the way out, responses on the way back) and remove before the app sees it.
/// Istio's own exchange carries a protobuf Struct; this is a short text form both planes can add as a static
/// header: `workload=reviews-v1;namespace=shop;app=reviews;version=v1;principal=spiffe://...`, values
/// percent-encoded where they hold `;`, `=` or `%`.
public struct PeerMetadata: Sendable, Hashable {
    public static let header = "x-weft-peer-metadata"
    /// Istio's value for a label it cannot know.
    public static let unknown = "unknown"

    public var workload: String
    public var namespace: String
    public var app: String
    public var version: String
    /// The SPIFFE URI the workload holds under mesh mTLS, or `unknown`.
    public var principal: String

    public init(workload: String = unknown, namespace: String = unknown, app: String = unknown, version: String = unknown,
                principal: String = unknown) {
        self.workload = workload
        self.namespace = namespace
        self.app = app
        self.version = version
        self.principal = principal
    }

    /// A workload's labels as Istio reads them: `app` (or `app.kubernetes.io/name`), `version` (or
    /// `app.kubernetes.io/version`); the workload is named `app-version`, or `app` alone, as a deployment of
    /// that app would be.
    public init(namespace: String, labels: [String: String], principal: String?) {
        let app = labels["app"] ?? labels["app.kubernetes.io/name"]
        let version = labels["version"] ?? labels["app.kubernetes.io/version"]
        let workload = labels["service.istio.io/workload-name"] ?? app.map { a in version.map { "\(a)-\($0)" } ?? a }
        self.init(workload: workload ?? Self.unknown, namespace: namespace, app: app ?? Self.unknown,
                  version: version ?? Self.unknown, principal: principal ?? Self.unknown)
    }

    static let keys = ["workload", "namespace", "app", "version", "principal"]

    /// The header value.
    public var headerValue: String {
        zip(Self.keys, [workload, namespace, app, version, principal]).map { "\($0)=\(Self.encode($1))" }.joined(separator: ";")
    }

    /// Reads a header value; fields it lacks are `unknown`, unknown fields are skipped (a newer peer may send more).
    public init(headerValue: String) {
        self.init()
        for part in headerValue.split(separator: ";") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let value = Self.decode(part[part.index(after: eq)...])
            guard !value.isEmpty else { continue }
            switch part[..<eq] {
            case "workload": workload = value
            case "namespace": namespace = value
            case "app": app = value
            case "version": version = value
            case "principal": principal = value
            default: continue
            }
        }
    }

    /// The namespace in a SPIFFE principal (`spiffe://td/ns/NS/sa/SA`), when nothing better is known.
    public static func namespace(ofPrincipal p: String) -> String? {
        guard let r = p.range(of: "/ns/") else { return nil }
        let rest = p[r.upperBound...]
        let ns = rest.prefix { $0 != "/" }
        return ns.isEmpty ? nil : String(ns)
    }

    static func encode(_ s: String) -> String {
        guard s.contains(where: { $0 == ";" || $0 == "=" || $0 == "%" }) else { return s }
        var out = ""
        for ch in s {
            switch ch {
            case ";": out += "%3B"
            case "=": out += "%3D"
            case "%": out += "%25"
            default: out.append(ch)
            }
        }
        return out
    }

    static func decode(_ s: Substring) -> String {
        guard s.contains("%") else { return String(s) }
        return String(s).replacingOccurrences(of: "%3B", with: ";").replacingOccurrences(of: "%3D", with: "=")
            .replacingOccurrences(of: "%25", with: "%")
    }
}
