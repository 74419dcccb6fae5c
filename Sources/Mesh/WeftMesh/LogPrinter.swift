#if canImport(Glibc)
import Glibc
let systemPipe = Glibc.pipe
#elseif canImport(Darwin)
import Darwin
let systemPipe = Darwin.pipe
#endif
import Foundation
import Synchronization

/// Writes whole lines to stdout with the process name in front (`reviews-v1 | ...`), one writer at a time,
/// and keeps a copy of each process's output in its own file.
public final class LogPrinter: Sendable {
    let lock = Mutex<Int>(12)
    public let folder: String?

    public init(folder: String?) {
        self.folder = folder
        if let folder { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    }

    /// Makes the name column at least `width` wide.
    public func widen(to width: Int) { lock.withLock { $0 = max($0, width) } }

    public func line(_ name: String, _ text: String) {
        lock.withLock { width in
            let pad = name.count < width ? String(repeating: " ", count: width - name.count) : ""
            FileHandle.standardOutput.write(Data("\(name)\(pad) | \(text)\n".utf8))
        }
    }

    /// A message of weft itself.
    public func say(_ text: String) { line("weft", text) }

    /// Opens a pipe whose lines are appended to `NAME.log` and, when `stream`, printed with the name in front.
    /// Returns the write end for the child; the reader runs on its own thread until every writer closed it.
    public func output(for name: String, stream: Bool) throws -> Int32 {
        try pipe(for: name, stream: stream).fd
    }

    /// `output(for:stream:)`, with the event of the reader having written everything (every writer closed the
    /// pipe): a run's output is all in its log once `drained` is done.
    public func pipe(for name: String, stream: Bool) throws -> (fd: Int32, drained: OutputDrained) {
        let drained = OutputDrained()
        var fds: [Int32] = [0, 0]
        guard systemPipe(&fds) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let file = folder.map { "\($0)/\(name).log" }
        if let file, !FileManager.default.fileExists(atPath: file) { _ = FileManager.default.createFile(atPath: file, contents: nil) }
        let readFD = fds[0]
        Thread.detachNewThread { [self] in
            let out = file.flatMap { FileHandle(forWritingAtPath: $0) }
            _ = try? out?.seekToEnd()
            var pending = Data()
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let n = read(readFD, &buffer, buffer.count)
                if n <= 0 { break }
                let chunk = Data(buffer[0..<n])
                out?.write(chunk)
                guard stream else { continue }
                pending.append(chunk)
                while let nl = pending.firstIndex(of: 10) {
                    line(name, String(decoding: pending[pending.startIndex..<nl], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...nl)
                }
            }
            if stream && !pending.isEmpty { line(name, String(decoding: pending, as: UTF8.self)) }
            try? out?.close()
            close(readFD)
            drained.finish()
        }
        return (fds[1], drained)
    }
}

/// Done once a process's output has all been copied to its log.
public final class OutputDrained: Sendable {
    let done = Mutex(false)

    func finish() { done.withLock { $0 = true } }

    public var isDone: Bool { done.withLock { $0 } }

    /// Waits until the output is drained (it is, microseconds after the last writer exits). A process that left
    /// something behind holding the pipe, outside its process group, would keep it open: `limit` bounds that.
    public func wait(limit: Duration) async {
        let end = ContinuousClock.now + limit
        while !isDone && ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(2)) }
    }
}
