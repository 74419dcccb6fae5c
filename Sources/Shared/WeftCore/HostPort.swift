/// A listening or connecting address: `host:port`, with IPv6 hosts written `[::1]:15010`.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    /// The host without brackets (`127.0.0.1`, `::1`, `localhost`).
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`. Throws a diagnostic naming `field` on bad input.
    public init(parsing text: String, field: String = "address") throws(Diagnostic) {
        func bad(_ why: String) -> Diagnostic {
            Diagnostic(path: field, message: "\(why) in '\(text)' (expected host:port, IPv6 as [::1]:port)")
        }
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("missing ']'") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw bad("missing port") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw bad("missing port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw bad("IPv6 host must be in brackets") }
        }
        guard !host.isEmpty else { throw bad("missing host") }
        guard let port = Int(portText), (0...65535).contains(port) else { throw bad("port must be 0-65535") }
        self.host = String(host)
        self.port = port
    }

    /// True when the host is an IPv6 literal.
    public var isIPv6: Bool { host.contains(":") }
    /// Whether only this host can reach it (127.0.0.0/8, ::1, localhost).
    public var isLoopback: Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }
    /// Every address of the host (0.0.0.0, ::).
    public var isWildcard: Bool { host == "0.0.0.0" || host == "::" || host == "[::]" }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
