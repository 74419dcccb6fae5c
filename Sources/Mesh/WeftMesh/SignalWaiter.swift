import Dispatch
import Foundation
import Synchronization

/// Waits for SIGINT or SIGTERM (their default actions are turned off so the mesh can stop in order).
/// Cancelling the waiting task ends the wait with 0.
public enum SignalWaiter {
    public static func wait(for signals: [Int32] = [SIGINT, SIGTERM]) async -> Int32 {
        let box = Once()
        let sources = signals.map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { box.resume(sig) }
            s.resume()
            return s
        }
        defer { sources.forEach { $0.cancel() } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { box.set($0) }
        } onCancel: {
            box.resume(0)
        }
    }

    /// Resumes the continuation once, with the first value given, whether it comes before or after `set`.
    final class Once: Sendable {
        let state = Mutex<(cont: CheckedContinuation<Int32, Never>?, value: Int32?)>((nil, nil))

        func set(_ c: CheckedContinuation<Int32, Never>) {
            let ready = state.withLock { s -> Int32? in
                if let v = s.value { return v }
                s.cont = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }

        func resume(_ v: Int32) {
            let c = state.withLock { s -> CheckedContinuation<Int32, Never>? in
                guard s.value == nil else { return nil }
                s.value = v
                defer { s.cont = nil }
                return s.cont
            }
            c?.resume(returning: v)
        }
    }
}
