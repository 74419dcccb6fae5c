import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import WeftCore

/// A small HTTP/1.1 client of the control plane's API for the CLI (IPv4 and IPv6 alike).
struct APIClient {
    let server: HostPort

    struct Reply {
        var status: Int
        var json: JSONValue
        var text: String
    }

    func call(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        let collector = ReplyCollector()
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .channelInitializer { ch in
                    ch.pipeline.addHTTPClientHandlers().flatMap { ch.pipeline.addHandler(collector) }
                }
                .connect(host: server.host, port: server.port).get()
        } catch {
            let failure = CLIError("cannot reach the control plane at \(server): \(error)")
            collector.finish(.failure(failure))
            throw failure
        }
        var h = HTTPHeaders()
        h.add(name: "host", value: server.description)
        h.add(name: "connection", value: "close")
        for (k, v) in headers { h.add(name: k, value: v) }
        let bytes = ByteBuffer(string: body ?? "")
        h.add(name: "content-length", value: String(bytes.readableBytes))
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: h)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(bytes)), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        let (status, text) = try await collector.done.futureResult.get()
        let json = (try? DocumentLoaderBridge.parse(text)) ?? .null
        return Reply(status: status, json: json, text: text)
    }

    /// The `errors` list of a refused request, one line each.
    static func errorLines(_ reply: Reply) -> [String] {
        if case let .array(items)? = reply.json["errors"] { return items.compactMap(\.stringValue) }
        return [reply.text]
    }
}

final class ReplyCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let done: EventLoopPromise<(Int, String)>
    var status = 0
    var body = ""
    var finished = false

    init() {
        done = MultiThreadedEventLoopGroup.singleton.next().makePromise()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h): status = Int(h.status.code)
        case let .body(b): body += String(buffer: b)
        case .end:
            finish(.success((status, body)))
            context.close(promise: nil)
        }
    }

    func finish(_ result: Result<(Int, String), Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(CLIError("the control plane closed the connection before answering")))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
