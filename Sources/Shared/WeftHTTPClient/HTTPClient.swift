import NIOCore
import NIOHTTP1
import NIOPosix
import WeftCore

public enum HTTPClient {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
        public var headers: [(String, String)] = []

        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ d: String) { description = d }
    }

    /// Sends one request to `server` with `target` as the request line's target (a path, or an absolute URL
    /// when `server` is a proxy) and `host` as the Host header.
    /// `secure` puts TLS first on the connection's pipeline (HTTPS).
    public static func send(_ method: String, to server: HostPort, target: String, host: String, headers: [(String, String)] = [],
                            body: String? = nil, bodyBytes: [UInt8]? = nil, timeout: TimeAmount = .seconds(10),
                            secure: (@Sendable (Channel) throws -> Void)? = nil) async throws -> Response {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let collector = ResponseCollector(loop: loop)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(5))
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture { try secure?(ch) }
                        .flatMap { ch.pipeline.addHTTPClientHandlers() }.flatMap { ch.pipeline.addHandler(collector) }
                }
                .connect(host: server.host, port: server.port).get()
        } catch {
            collector.promise.fail(error)
            throw Failure("cannot connect to \(server): \(error)")
        }
        let timer = loop.scheduleTask(in: timeout) {
            collector.finish(.failure(Failure("no answer from \(server) within \(timeout.nanoseconds / 1_000_000) ms")))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        var h = HTTPHeaders()
        h.add(name: "host", value: host)
        h.add(name: "connection", value: "close")
        for (k, v) in headers { h.add(name: k, value: v) }
        let bytes = bodyBytes.map { ByteBuffer(bytes: $0) } ?? ByteBuffer(string: body ?? "")
        if body != nil || bodyBytes != nil || method != "GET" { h.add(name: "content-length", value: String(bytes.readableBytes)) }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target, headers: h)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if bytes.readableBytes > 0 { channel.write(HTTPClientRequestPart.body(.byteBuffer(bytes)), promise: nil) }
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        return try await collector.promise.futureResult.get()
    }

    /// GET `url` (`http://host[:port]/path`), through `proxy` (an HTTP_PROXY style forward proxy) when given.
    public static func get(_ url: String, headers: [(String, String)] = [], proxy: HostPort? = nil,
                           timeout: TimeAmount = .seconds(10)) async throws -> Response {
        guard let u = URLParts(url), !u.isHTTPS else { throw Failure("'\(url)' is not an http:// URL") }
        if let proxy { return try await send("GET", to: proxy, target: url, host: u.authority, headers: headers, timeout: timeout) }
        return try await send("GET", to: HostPort(host: u.host, port: u.port), target: u.path, host: u.authority, headers: headers, timeout: timeout)
    }

    /// True when something accepts TCP connections at `address`.
    public static func canConnect(_ address: HostPort) async -> Bool {
        guard let ch = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(500)).connect(host: address.host, port: address.port).get() else { return false }
        try? await ch.close()
        return true
    }

    /// The proxy of an `HTTP_PROXY` value such as `http://127.0.0.11:15001` or `http://[fd00::1]:15001/`.
    public static func proxyAddress(_ value: String?) -> HostPort? {
        guard let value, !value.isEmpty else { return nil }
        var text = Substring(value)
        if let r = text.range(of: "://") { text = text[r.upperBound...] }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        return try? HostPort(parsing: String(text), field: "HTTP_PROXY")
    }
}

/// `http://host[:port]/path?query` split into the parts a request needs.
/// An `http://` or `https://` URL's parts.
public struct URLParts: Sendable {
    public var host: String
    public var port: Int
    public var authority: String
    public var path: String
    public var isHTTPS: Bool

    public init?(_ url: String) {
        isHTTPS = url.lowercased().hasPrefix("https://")
        guard url.lowercased().hasPrefix("http://") || isHTTPS else { return nil }
        let rest = url.dropFirst(isHTTPS ? 8 : 7)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        authority = String(rest[..<slash])
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        if let hp = try? HostPort(parsing: authority) {
            host = hp.host
            port = hp.port
        } else if !authority.isEmpty {
            host = authority.hasPrefix("[") ? String(authority.dropFirst().dropLast()) : authority
            port = isHTTPS ? 443 : 80
        } else {
            return nil
        }
    }
}

/// Collects one answer. Every call happens on the channel's loop (the timeout is scheduled there too).
final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    struct Parts {
        var response = HTTPClient.Response(status: 0, body: "")
        var done = false
    }

    let promise: EventLoopPromise<HTTPClient.Response>
    let parts = Box()

    final class Box {
        var value = Parts()
    }

    init(loop: any EventLoop) {
        promise = loop.makePromise()
    }

    /// Completes the answer once; later results are dropped. Runs on the channel's loop.
    func finish(_ result: Result<HTTPClient.Response, Error>) {
        guard !parts.value.done else { return }
        parts.value.done = true
        promise.completeWith(result)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h):
            parts.value.response.status = Int(h.status.code)
            parts.value.response.headers = h.headers.map { ($0.name, $0.value) }
        case let .body(b): parts.value.response.body += String(buffer: b)
        case .end:
            finish(.success(parts.value.response))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(HTTPClient.Failure("the connection closed before a whole answer came")))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }
}
