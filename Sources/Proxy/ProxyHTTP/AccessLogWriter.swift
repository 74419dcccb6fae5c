#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// One worker's access log output: lines are appended to a buffer per file and written by the worker's loop
/// every half second (or at 64 KiB), as Envoy's file flush interval does, so a request costs a format and a
/// copy, never a system call. Each worker opens its own descriptor (O_APPEND), so no lock is shared; a flush
/// writes whole lines, at most 4 KiB at a time, so lines from several workers never interleave on a pipe.
final class AccessLogWriter {
    let loop: any EventLoop
    private var files: [String: Int32] = [:]
    private var buffers: [String: [UInt8]] = [:]
    private var flushScheduled = false
    /// Files that could not be opened, so the failure is reported once.
    private var failed: Set<String> = []
    static let flushInterval = TimeAmount.milliseconds(500)
    static let flushAt = 64 * 1024
    static let pipeAtomic = 4096

    init(loop: any EventLoop) { self.loop = loop }

    func append(_ line: String, to path: String) {
        buffers[path, default: []].append(contentsOf: line.utf8)
        if buffers[path]!.count >= Self.flushAt { return flush() }
        if !flushScheduled {
            flushScheduled = true
            loop.scheduleTask(in: Self.flushInterval) { [self] in flush() }
        }
    }

    func flush() {
        flushScheduled = false
        for (path, bytes) in buffers where !bytes.isEmpty {
            buffers[path] = []
            guard let fd = descriptor(path) else { continue }
            write(fd, bytes)
        }
    }

    private func descriptor(_ path: String) -> Int32? {
        if let fd = files[path] { return fd }
        switch path {
        case "/dev/stdout": files[path] = 1; return 1
        case "/dev/stderr": files[path] = 2; return 2
        default: break
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            if failed.insert(path).inserted {
                let message = "weft proxy: cannot open access log '\(path)': \(String(cString: strerror(errno)))\n"
                _ = message.withCString { Glibc.write(2, $0, strlen($0)) }
            }
            return nil
        }
        files[path] = fd
        return fd
    }

    /// Writes whole lines in chunks of at most 4 KiB (a longer line alone), retrying short writes.
    private func write(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                var end = min(raw.count, start + Self.pipeAtomic)
                if end < raw.count, let nl = raw[start..<end].lastIndex(of: UInt8(ascii: "\n")) { end = nl + 1 }
                var at = start
                while at < end {
                    let n = Glibc.write(fd, raw.baseAddress! + at, end - at)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { return }
                    at += n
                }
                start = end
            }
        }
    }
}
