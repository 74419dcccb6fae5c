#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ProxyConfig

/// One worker's access log output: lines are formatted into a buffer per file and written every half second (or
/// at 64 KiB), as Envoy's file flush interval does, by a thread of the I/O pool, so a request costs a format
/// and a copy, never a system call on the worker's loop. Each worker has its own descriptors (O_APPEND) and at
/// most one write in flight, so its lines stay in order; a write is of whole lines, at most 4 KiB at a time, so
/// lines from several workers never interleave on a pipe.
final class AccessLogWriter {
    let loop: any EventLoop
    let pool: NIOThreadPool
    /// Lines not yet written, by file; `slots` finds a path's buffer (and the last path is remembered, so the
    /// usual single log costs no hashing).
    private var buffers: [[UInt8]] = []
    private var paths: [String] = []
    private var slots: [String: Int] = [:]
    private var lastPath = ""
    private var lastSlot = -1
    private var flushScheduled = false
    private var writing = false
    /// The start time's date and time, formatted once a second.
    var clock = TimestampCache()
    /// Descriptors by path, used only by the write in flight (one at a time).
    private let files = FileTable()
    static let flushInterval = TimeAmount.milliseconds(500)
    static let flushAt = 64 * 1024
    static let pipeAtomic = 4096

    init(loop: any EventLoop, pool: NIOThreadPool = .singleton) {
        self.loop = loop
        self.pool = pool
    }

    /// Appends a line to `path`'s buffer, formatted in place by `format`.
    func append(to path: String, _ format: (inout [UInt8], inout TimestampCache) -> Void) {
        let slot: Int
        if lastSlot >= 0 && path == lastPath {
            slot = lastSlot
        } else if let s = slots[path] {
            slot = s
        } else {
            slot = buffers.count
            slots[path] = slot
            paths.append(path)
            buffers.append([])
        }
        lastPath = path
        lastSlot = slot
        format(&buffers[slot], &clock)
        if buffers[slot].count >= Self.flushAt { return flush() }
        if !flushScheduled {
            flushScheduled = true
            loop.scheduleTask(in: Self.flushInterval) { [self] in flush() }
        }
    }

    func append(_ line: String, to path: String) {
        append(to: path) { out, _ in out.append(contentsOf: line.utf8) }
    }

    /// Hands what is buffered to the pool; with a write already in flight, the next flush takes it.
    func flush(wait: Bool = false) {
        flushScheduled = false
        guard !writing || wait else {
            if !flushScheduled {
                flushScheduled = true
                loop.scheduleTask(in: Self.flushInterval) { [self] in flush() }
            }
            return
        }
        var batch: [(String, [UInt8])] = []
        for i in buffers.indices where !buffers[i].isEmpty {
            batch.append((paths[i], buffers[i]))
            buffers[i].removeAll(keepingCapacity: true)
        }
        guard !batch.isEmpty else { return }
        let files = files
        if wait {
            for (path, bytes) in batch { files.write(path, bytes) }
            return
        }
        writing = true
        let loop = loop
        pool.submit { _ in
            for (path, bytes) in batch { files.write(path, bytes) }
            loop.execute { [self] in writing = false }
        }
    }
}

/// Open access log files by path, for the writes of one AccessLogWriter (the pool's, and the last one at
/// shutdown; a lock keeps them apart, taken twice a second, never per request).
final class FileTable: @unchecked Sendable {
    private var files: [String: Int32] = [:]
    /// Files that could not be opened, so the failure is reported once.
    private var failed: Set<String> = []
    private let lock = NIOLock()

    func write(_ path: String, _ bytes: [UInt8]) {
        lock.withLock {
            guard let fd = descriptor(path) else { return }
            Self.write(fd, bytes)
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
    private static func write(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                var end = min(raw.count, start + AccessLogWriter.pipeAtomic)
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
