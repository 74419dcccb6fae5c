/// One inbound listener of a proxy: where it listens, the app it forwards to, and the app's protocol. Written
/// `LISTEN=APP[=PROTOCOL]` on the command line (`--inbound`) and in the node metadata, shared by the control
/// plane (which builds the listener) and the proxy (which validates its flags).
public struct InboundSpec: Hashable, Sendable {
    public var listen: HostPort
    public var app: HostPort
    public var tcp: Bool
    /// The app speaks HTTP/2 (gRPC): the inbound cluster uses HTTP/2 upstream.
    public var http2: Bool

    public init(listen: HostPort, app: HostPort, tcp: Bool = false, http2: Bool = false) {
        self.listen = listen
        self.app = app
        self.tcp = tcp
        self.http2 = http2
    }

    /// `LISTEN=APP[=PROTOCOL]`, for example `127.0.0.1:15006=127.0.0.1:8080` or `...=grpc`; the protocol is
    /// http (default), http2, grpc or tcp.
    public init(parsing text: String) throws(Diagnostic) {
        let parts = text.split(separator: "=").map(String.init)
        let proto = parts.count == 3 ? parts[2].lowercased() : "http"
        guard parts.count == 2 || (parts.count == 3 && ["tcp", "http", "http2", "grpc"].contains(proto)) else {
            throw Diagnostic(path: "inbound", message: "'\(text)' must be LISTEN_HOST:PORT=APP_HOST:PORT[=http|http2|grpc|tcp]")
        }
        self.init(listen: try HostPort(parsing: parts[0], field: "inbound"), app: try HostPort(parsing: parts[1], field: "inbound"),
                  tcp: proto == "tcp", http2: proto == "http2" || proto == "grpc")
    }
}
