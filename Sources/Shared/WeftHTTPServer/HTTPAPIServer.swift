import NIOCore
import NIOHTTP1
import NIOPosix
import WeftCore

/// A request as the API handlers see it: whole body, decoded path and query.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: String
}

public struct APIResponse: Sendable {
    public var status: HTTPResponseStatus
    public var body: String
    public var contentType = "application/json"

    public init(status: HTTPResponseStatus, body: String, contentType: String = "application/json") {
        self.status = status
        self.body = body
        self.contentType = contentType
    }

    public static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok) -> APIResponse {
        APIResponse(status: status, body: value.serialized(pretty: true) + "\n")
    }
}

/// A small HTTP/1.1 server for the control plane's JSON API; each request is handled by an async closure.
/// A body larger than `maxBodyBytes` is refused with 413 before it is read whole (the connection is closed).
public struct HTTPAPIServer: Sendable {
    public typealias Handler = @Sendable (APIRequest) async -> APIResponse
    /// The default body limit: 4 MiB (Kubernetes' API server takes 3 MB; a mesh's config is far smaller).
    public static let defaultMaxBodyBytes = 4 << 20
    let group: MultiThreadedEventLoopGroup
    let handler: Handler
    let maxBodyBytes: Int
    let timeouts: RequestTimeouts?

    /// How long a connection may take to send a request: its head within `head` of the connection opening or of
    /// the last answer (this also closes idle keep-alive connections), its body within `body` of the head.
    public struct RequestTimeouts: Sendable {
        public var head: TimeAmount
        public var body: TimeAmount
        public init(head: TimeAmount = .seconds(10), body: TimeAmount = .seconds(30)) {
            self.head = head
            self.body = body
        }
    }

    /// At most this many open connections; the next is closed at once (as a proxy listener's connection limit).
    public static let defaultMaxConnections = 1024
    /// More request headers than this get 431, as on the proxies' listeners.
    public static let maxHeadersCount = 100
    let maxConnections: Int
    let open = ConnectionCounter()

    public init(group: MultiThreadedEventLoopGroup, maxBodyBytes: Int = HTTPAPIServer.defaultMaxBodyBytes,
                timeouts: RequestTimeouts? = nil, maxConnections: Int = HTTPAPIServer.defaultMaxConnections,
                handler: @escaping Handler) {
        self.maxConnections = maxConnections
        self.group = group
        self.maxBodyBytes = maxBodyBytes
        self.timeouts = timeouts
        self.handler = handler
    }

    /// `secure` puts TLS first on each connection's pipeline (the control plane's API beyond loopback).
    public func bind(_ address: HostPort, secure: (@Sendable (Channel) throws -> Void)? = nil) async throws -> Channel {
        let handler = self.handler, limit = maxBodyBytes, timeouts = self.timeouts, open = self.open, most = maxConnections
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard open.admit(max: most) else {
                    return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(CloseOnActive()) }
                }
                channel.closeFuture.whenComplete { _ in open.release() }
                return channel.eventLoop.makeCompletedFuture { try secure?(channel) }.flatMap {
                    channel.pipeline.configureHTTPServerPipeline()
                }.flatMap {
                    channel.pipeline.addHandler(APIChannelHandler(handler: handler, maxBodyBytes: limit, timeouts: timeouts))
                }
            }
            .bind(host: address.host, port: address.port).get()
    }
}

final class APIChannelHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: HTTPAPIServer.Handler
    let maxBodyBytes: Int
    var head: HTTPRequestHead?
    var body = ByteBuffer()
    /// The request was refused (413); what is left of it is dropped and the connection closes.
    var refused = false
    /// Closes a connection whose next request does not arrive whole in time (slowloris, idle keep-alive).
    let timeouts: HTTPAPIServer.RequestTimeouts?
    var deadline: Scheduled<Void>?
    var context: ChannelHandlerContext?

    init(handler: @escaping HTTPAPIServer.Handler, maxBodyBytes: Int, timeouts: HTTPAPIServer.RequestTimeouts?) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        arm(timeouts?.head)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        self.context = nil
    }

    func arm(_ after: TimeAmount?) {
        deadline?.cancel()
        deadline = nil
        guard let after, let context else { return }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: after) { bound.value.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case let .head(h):
            head = h
            body.clear()
            arm(timeouts?.body)
            if h.headers.count > HTTPAPIServer.maxHeadersCount {
                refuse(context, h.version, .requestHeaderFieldsTooLarge, "more than \(HTTPAPIServer.maxHeadersCount) request headers")
            } else if h.version == .http1_1, h.headers["host"].count != 1 {
                refuse(context, h.version, .badRequest, h.headers["host"].isEmpty ? "missing Host header" : "more than one Host header")
            } else if let declared = h.headers.first(name: "content-length").flatMap(Int.init), declared > maxBodyBytes {
                refuse(context, h.version)
            }
        case var .body(b):
            guard body.readableBytes + b.readableBytes <= maxBodyBytes else { return refuse(context, head?.version ?? .http1_1) }
            body.writeBuffer(&b)
        case .end:
            guard let head else { return }
            arm(nil)
            let (path, query) = Self.split(head.uri)
            let request = APIRequest(method: head.method, path: path, query: query, headers: head.headers,
                                     body: body.readString(length: body.readableBytes) ?? "")
            let keepAlive = head.isKeepAlive
            let handler = self.handler
            let loop = context.eventLoop
            let bound = NIOLoopBound(context, eventLoop: loop)
            let version = head.version
            Task {
                let response = await handler(request)
                loop.execute {
                    let context = bound.value
                    var headers = HTTPHeaders()
                    headers.add(name: "content-type", value: response.contentType)
                    headers.add(name: "content-length", value: String(response.body.utf8.count))
                    if !keepAlive { headers.add(name: "connection", value: "close") }
                    context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
                    context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
                    context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                        if !keepAlive { context.close(promise: nil) }
                    }
                    if keepAlive { self.arm(self.timeouts?.head) }
                }
            }
        }
    }

    /// A malformed request: NIO's error handler before this one has answered 400; the connection closes.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// 413 with the limit in the message (or another refusal), then close: the rest of the request is never read.
    func refuse(_ context: ChannelHandlerContext, _ version: HTTPVersion, _ status: HTTPResponseStatus = .payloadTooLarge,
                _ reason: String? = nil) {
        refused = true
        body = ByteBuffer()
        let message = reason ?? "request body larger than \(maxBodyBytes) bytes (the server's limit)"
        let text = "{\"errors\": [\"\(message)\"]}\n"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(text.utf8.count))
        headers.add(name: "connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    static func split(_ uri: String) -> (String, [String: String]) {
        let parts = uri.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                query[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
        }
        return (String(parts.first ?? "/"), query)
    }
}

import Foundation

/// Closes a connection the server has no room for as soon as it is active.
final class CloseOnActive: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    func channelActive(context: ChannelHandlerContext) { context.close(promise: nil) }
}
