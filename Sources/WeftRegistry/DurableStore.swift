// WeftRegistry: where config and workloads come from and where they are kept: the watched config folder,
// resources applied through the API (stored durably under --data), and workloads registered with a TTL.
// It validates every change as a whole before taking it and hands out immutable MeshState snapshots.
// It knows nothing of xDS or Envoy.
import Foundation
import WeftConfig
import WeftCore
import WeftModel

/// What survives a restart: API-applied resources and registered workloads, as one JSON file written atomically.
public struct DurableStore: Sendable {
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

    public func save(resources: [Resource], workloads: [RegisteredWorkload]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let saved = Saved(resources: resources.map { .init(source: $0.source, document: $0.document.serialized()) }, workloads: workloads)
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

    /// Loads what was saved; a store that cannot be read is an error, never silently empty.
    public func load() throws -> (resources: [Resource], workloads: [RegisteredWorkload]) {
        guard FileManager.default.fileExists(atPath: file.path) else { return ([], []) }
        let saved = try JSONDecoder().decode(Saved.self, from: Data(contentsOf: file))
        var resources: [Resource] = []
        for doc in saved.resources {
            resources += try ResourceDecoder.decode(text: doc.document, file: doc.source)
        }
        return (resources, saved.workloads)
    }
}
