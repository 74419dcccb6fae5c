import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import ProxyConfig

/// One active health check probe against one endpoint: a TCP connect, an HTTP GET, or a gRPC
/// grpc.health.v1.Health/Check call, each on its own connection, closed afterwards.
enum HealthProbe {
    enum Outcome: Equatable {
        case pass
        /// The endpoint answered "not healthy" (an unexpected HTTP status, a gRPC status other than SERVING).
        case unhealthy
        /// No answer: refused, reset or timed out.
        case networkFailure
    }

    /// `tls`: the endpoint's TLS for traffic (mesh mTLS or the user's files), put first on the probe's connection.
    static func run(_ config: HealthCheckConfig, _ target: EndpointAddress, tls: UpstreamMeshTLS? = nil, credentials: MeshCredentials? = nil,
                    on loop: any EventLoop) -> EventLoopFuture<Outcome> {
        let promise = loop.makePromise(of: Outcome.self)
        let timeout = TimeAmount(config.timeout)
        var channel: (any Channel)?
        let answer = ProbeAnswer(promise: promise)
        let timer = loop.scheduleTask(in: timeout) {
            answer.finish(.networkFailure)
            channel?.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in
            timer.cancel()
            channel?.close(promise: nil)
        }
        let probe = config.probe
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let tls, let credentials { try credentials.addClientTLS(tls, to: ch.pipeline.syncOperations) }
                    switch probe {
                    case .tcp: break
                    case let .http(_, _, http2, _) where !http2:
                        try ch.pipeline.syncOperations.addHTTPClientHandlers()
                        try ch.pipeline.syncOperations.addHandler(ProbeResponseHandler(answer: answer, probe: probe))
                    case .http, .grpc:
                        _ = try ch.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()) { $0.eventLoop.makeSucceededVoidFuture() }
                    }
                }
            }
            .connect(host: target.host, port: target.port)
            .whenComplete { result in
                switch result {
                case .failure: answer.finish(.networkFailure)
                case let .success(ch):
                    channel = ch
                    ch.closeFuture.whenComplete { _ in answer.finish(.networkFailure) }
                    switch probe {
                    case .tcp: answer.finish(.pass)
                    case let .http(_, _, http2, _) where !http2:
                        ch.writeAndFlush(NIOAny(HTTPClientRequestPart.head(request(probe, target))), promise: nil)
                        ch.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
                    case .http, .grpc:
                        stream(on: ch, probe: probe, target: target, answer: answer)
                    }
                }
            }
        return promise.futureResult
    }

    /// The request head: GET path (HTTP) or POST /grpc.health.v1.Health/Check (gRPC), as Envoy sends them.
    static func request(_ probe: HealthCheckConfig.Probe, _ target: EndpointAddress) -> HTTPRequestHead {
        var h = HTTPHeaders()
        h.add(name: "user-agent", value: "Envoy/HC")
        switch probe {
        case let .grpc(_, authority):
            h.add(name: "host", value: authority.isEmpty ? target.host : authority)
            h.add(name: "content-type", value: "application/grpc")
            h.add(name: "te", value: "trailers")
            return HTTPRequestHead(version: .http1_1, method: .POST, uri: "/grpc.health.v1.Health/Check", headers: h)
        case let .http(host, path, _, _):
            h.add(name: "host", value: host.isEmpty ? target.host : host)
            h.add(name: "connection", value: "close")
            return HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: h)
        case .tcp:
            return HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: h)
        }
    }

    /// The HealthCheckRequest message, framed for gRPC: `service` (field 1) when set.
    static func grpcBody(service: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var msg: [UInt8] = []
        if !service.isEmpty {
            msg = [0x0A]
            var n = service.utf8.count
            while n >= 0x80 { msg.append(UInt8(n & 0x7F) | 0x80); n >>= 7 }
            msg.append(UInt8(n))
            msg += Array(service.utf8)
        }
        var b = allocator.buffer(capacity: 5 + msg.count)
        b.writeInteger(UInt8(0))
        b.writeInteger(UInt32(msg.count))
        b.writeBytes(msg)
        return b
    }

    static func stream(on ch: any Channel, probe: HealthCheckConfig.Probe, target: EndpointAddress, answer: ProbeAnswer) {
        guard let mux = try? ch.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer() else {
            return answer.finish(.networkFailure)
        }
        mux.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
                try stream.pipeline.syncOperations.addHandler(ProbeResponseHandler(answer: answer, probe: probe))
            }
        }.whenComplete { result in
            guard case let .success(stream) = result else { return answer.finish(.networkFailure) }
            stream.write(NIOAny(HTTPClientRequestPart.head(request(probe, target))), promise: nil)
            if case let .grpc(service, _) = probe {
                stream.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(grpcBody(service: service, allocator: stream.allocator)))), promise: nil)
            }
            stream.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
        }
    }
}

/// The promise a probe completes (once; later completions are ignored).
final class ProbeAnswer: @unchecked Sendable {
    let promise: EventLoopPromise<HealthProbe.Outcome>
    private var done = false
    init(promise: EventLoopPromise<HealthProbe.Outcome>) { self.promise = promise }

    /// Completes the probe on its loop; only the first outcome counts.
    func finish(_ outcome: HealthProbe.Outcome) {
        promise.futureResult.eventLoop.execute { [self] in
            guard !done else { return }
            done = true
            promise.succeed(outcome)
        }
    }
}

/// Reads a probe's answer: the HTTP status against the expected ranges, or for gRPC the status field of
/// HealthCheckResponse (1 = SERVING) with grpc-status 0.
final class ProbeResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let answer: ProbeAnswer
    let probe: HealthCheckConfig.Probe
    var status = 0
    var body: [UInt8] = []
    var grpcStatus: String?

    init(answer: ProbeAnswer, probe: HealthCheckConfig.Probe) {
        self.answer = answer
        self.probe = probe
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h):
            status = Int(h.status.code)
            grpcStatus = h.headers.first(name: "grpc-status")
            if case let .http(_, _, _, expected) = probe {
                answer.finish(expected.contains { $0.contains(status) } ? .pass : .unhealthy)
            }
        case var .body(b):
            if body.count < 64 { body += b.readBytes(length: min(b.readableBytes, 64 - body.count)) ?? [] }
        case let .end(trailers):
            if let t = trailers?.first(name: "grpc-status") { grpcStatus = t }
            // HealthCheckResponse after the 5-byte frame header: field 1 varint, SERVING = 1.
            let serving = body.count >= 7 && body[5] == 0x08 && body[6] == 0x01
            answer.finish(status == 200 && grpcStatus == "0" && serving ? .pass : .unhealthy)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answer.finish(.networkFailure)
        context.close(promise: nil)
    }
}
