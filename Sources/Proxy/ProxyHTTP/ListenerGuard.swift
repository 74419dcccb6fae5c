import NIOCore
import Synchronization
import WeftCore

/// What one listener counts over all its connections and workers: its open connections (Envoy's
/// connection_limit filter) and the premature stream resets of the current second (rapid reset spread over many
/// connections, each under any per-connection limit). Kept while the listener stays bound, across config
/// updates; atomics only, no locks.
public final class ListenerGuard: Sendable {
    /// Open connections against the listener's connection limit (refused ones counted for the admin page).
    public let connections = ConnectionCounter()
    let resetSecond = Atomic<Int>(0)
    let resetsThisSecond = Atomic<Int>(0)
    /// Connections ended for resets past the budget (shown on the admin page).
    public let resetBudgetClosures = Atomic<Int>(0)

    public init() {}

    /// Counts one premature reset; false once more than `perSecond` happened in the current second on this
    /// listener (the caller ends the connection that made it).
    func allowPrematureReset(perSecond: Int, now: NIODeadline = .now()) -> Bool {
        let second = Int(now.uptimeNanoseconds / 1_000_000_000)
        let seen = resetSecond.load(ordering: .relaxed)
        if seen != second, resetSecond.compareExchange(expected: seen, desired: second, ordering: .relaxed).exchanged {
            resetsThisSecond.store(0, ordering: .relaxed)
        }
        guard resetsThisSecond.wrappingAdd(1, ordering: .relaxed).newValue > perSecond else { return true }
        resetBudgetClosures.wrappingAdd(1, ordering: .relaxed)
        return false
    }
}

/// Closes a connection its listener has no room for, as soon as it is active (nothing is read from it).
final class ConnectionRefuser: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    func channelActive(context: ChannelHandlerContext) { context.close(promise: nil) }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
