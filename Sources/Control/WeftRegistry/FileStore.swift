import Foundation
import WeftConfig
import WeftCore
import WeftModel

/// A RegistryStore in one JSON file, `store.json` under `directory`, replaced atomically on every save.
public struct FileStore: RegistryStore {
    public let directory: URL
    var file: URL { directory.appendingPathComponent("store.json") }

    public init(directory: URL) {
        self.directory = directory
    }

    struct Saved: Codable {
        struct Doc: Codable {
            var source: String
            var document: String
        }
        var resources: [Doc]
        var workloads: [RegisteredWorkload]
    }

    public func save(_ state: StoredState) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let saved = Saved(resources: state.resources.map { .init(source: $0.source, document: $0.document.serialized()) },
                          workloads: state.workloads)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(saved)
        let tmp = directory.appendingPathComponent("store.json.tmp")
        // Written and fsynced, renamed over the old store in one step (a crash leaves either the old or the new
        // file), then the folder fsynced so the rename itself survives a power loss: only then is the change
        // acknowledged.
        try Self.writeSynced(data, to: tmp.path)
        guard rename(tmp.path, file.path) == 0 else { throw Self.failure("rename", file.path) }
        try Self.sync(directory.path)
    }

    static func writeSynced(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw failure("write", path) }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw failure("fsync", path) }
    }

    static func sync(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync", directory) }
    }

    static func failure(_ call: String, _ path: String) -> any Error {
        let code = errno
        return CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path,
                                                        NSLocalizedDescriptionKey: "\(call) \(path): \(String(cString: strerror(code)))"])
    }

    public func load() throws -> StoredState {
        guard FileManager.default.fileExists(atPath: file.path) else { return StoredState() }
        let saved = try JSONDecoder().decode(Saved.self, from: Data(contentsOf: file))
        var resources: [Resource] = []
        var refused: [Diagnostic] = []
        var kept: [Saved.Doc] = []
        for doc in saved.resources {
            do {
                resources += try ResourceDecoder.decode(text: doc.document, file: doc.source)
            } catch {
                refused += error.diagnostics.map {
                    Diagnostic(file: "store.json", resource: $0.resource, path: $0.path,
                               message: $0.message + " (stored before; not loaded, kept in store-refused.json)")
                }
                kept.append(doc)
            }
        }
        if !kept.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try Self.writeSynced(try encoder.encode(kept), to: directory.appendingPathComponent("store-refused.json").path)
        }
        return StoredState(resources: resources, workloads: saved.workloads, refused: refused)
    }
}
