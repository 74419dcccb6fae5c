import Dispatch
import Foundation

/// Waits for SIGINT or SIGTERM (the default actions are turned off so the mesh can stop in order).
public enum SignalWaiter {
    public static func wait(for signals: [Int32] = [SIGINT, SIGTERM]) async -> Int32 {
        let holder = SourceHolder()
        return await withCheckedContinuation { (cont: CheckedContinuation<Int32, Never>) in
            let once = OnceBox(cont)
            for sig in signals {
                signal(sig, SIG_IGN)
                let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                s.setEventHandler { once.resume(sig) }
                s.resume()
                holder.add(s)
            }
        }
    }

    final class SourceHolder: @unchecked Sendable {
        var sources: [DispatchSourceSignal] = []
        func add(_ s: DispatchSourceSignal) { sources.append(s) }
    }

    final class OnceBox: @unchecked Sendable {
        let lock = NSLock()
        var cont: CheckedContinuation<Int32, Never>?
        init(_ c: CheckedContinuation<Int32, Never>) { cont = c }
        func resume(_ v: Int32) {
            lock.lock()
            let c = cont
            cont = nil
            lock.unlock()
            c?.resume(returning: v)
        }
    }
}
