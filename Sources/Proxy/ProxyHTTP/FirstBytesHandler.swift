import NIOCore

/// A handler that looks at a connection's first bytes to decide what the pipeline becomes (TLS or plaintext,
/// HTTP/2 or HTTP/1), sets it up, then replays what it read and steps out of the way.
class FirstBytesHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    var buffered: ByteBuffer?

    /// Overridden by each kind: buffer, decide once there are enough bytes. (Declared here, so the protocol's
    /// witness is this class method and the override is what NIO calls.)
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    /// Everything read so far, with `data` added.
    func buffer(_ data: NIOAny) -> ByteBuffer {
        var incoming = unwrapInboundIn(data)
        if buffered == nil { buffered = incoming } else { buffered!.writeBuffer(&incoming) }
        return buffered!
    }

    /// Runs `setUp`; then replays the buffered bytes into the new handlers and leaves, or closes the connection
    /// when `setUp` throws.
    func decide(_ context: ChannelHandlerContext, _ setUp: () throws -> Void) {
        do { try setUp() } catch {
            context.close(promise: nil)
            return
        }
        let data = buffered!
        buffered = nil
        context.fireChannelRead(wrapInboundOut(data))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
