import NIOCore
import NIOHTTP1

extension Exchange {
    /// After the upstream answered 101 to an Upgrade (WebSocket), both connections stop speaking HTTP and
    /// become one byte tunnel: HTTP handlers are removed on both sides and bytes are glued through.
    /// The stream is done (StreamState ended it with `.tunnel`) before this runs.
    func switchToTunnel(_ response: HTTPResponseHead) {
        guard let conn = connection, let pool, let downContext = downstream.upgradeContext else { return }
        timeoutTask?.cancel()
        perTryTask?.cancel()
        connection = nil
        pool.requestEnded()
        var out = HTTPResponseHead(version: head.version, status: response.status, headers: response.headers)
        HeaderRules.stripHopByHop(&out.headers, keepUpgrade: true)
        downstream.writeHead(out)
        let down = downContext.channel
        downstream.writeEnd(nil, from: self)
        done(status: 101)
        do {
            let up = try pool.detachForTunnel(conn)
            // Removing the decoders forwards any bytes they hold past the handshake to the glue handlers.
            let d = down.pipeline.syncOperations
            try removeHTTPServerHandlers(d)
            try d.addHandler(TCPPeerHandler(peer: up))
            try up.pipeline.syncOperations.addHandler(TCPPeerHandler(peer: down))
        } catch {
            down.close(promise: nil)
            conn.channel.close(promise: nil)
        }
    }

    func removeHTTPServerHandlers(_ s: ChannelPipeline.SynchronousOperations) throws {
        s.removeHandler(try s.handler(type: DownstreamHandler.self), promise: nil)
        s.removeHandler(try s.handler(type: ProtocolErrorReplier.self), promise: nil)
        s.removeHandler(try s.handler(type: HTTPServerPipelineHandler.self), promise: nil)
        s.removeHandler(try s.handler(type: HTTPResponseEncoder.self), promise: nil)
        s.removeHandler(try s.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self), promise: nil)
    }
}
