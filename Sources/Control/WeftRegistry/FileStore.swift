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
        try data.write(to: tmp)
        // rename(2) replaces the old store in one step: a crash leaves either the old or the new file.
        guard rename(tmp.path, file.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
    }

    public func load() throws -> StoredState {
        guard FileManager.default.fileExists(atPath: file.path) else { return StoredState() }
        let saved = try JSONDecoder().decode(Saved.self, from: Data(contentsOf: file))
        var resources: [Resource] = []
        for doc in saved.resources {
            resources += try ResourceDecoder.decode(text: doc.document, file: doc.source)
        }
        return StoredState(resources: resources, workloads: saved.workloads)
    }
}
