import Foundation
import WeftConfig
import WeftCore

/// Reads the YAML/JSON files of the `--config` folder and tells when any of them changed.
public struct ConfigFolder: Sendable {
    public let directory: URL
    static let extensions: Set<String> = ["yaml", "yml", "json"]

    public init(directory: URL) {
        self.directory = directory
    }

    /// Files by name, with modification time and size, to notice changes cheaply.
    public func fingerprint() -> [String: String] {
        var out: [String: String] = [:]
        for url in files() {
            let attrs = try? FileManager.default.attributesOfItem(atPath: url.path)
            let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attrs?[.size] as? NSNumber)?.intValue ?? 0
            out[url.lastPathComponent] = "\(mtime)/\(size)"
        }
        return out
    }

    public func files() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") && Self.extensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .map { directory.appendingPathComponent($0) }
    }

    /// Decodes every file; a file with problems yields its diagnostics instead of resources.
    public func read() -> [String: Result<[Resource], DiagnosticError>] {
        var out: [String: Result<[Resource], DiagnosticError>] = [:]
        for url in files() {
            let name = url.lastPathComponent
            guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                out[name] = .failure(DiagnosticError([Diagnostic(file: name, message: "cannot read the file as UTF-8 text")]))
                continue
            }
            do {
                out[name] = .success(try ResourceDecoder.decode(text: text, file: name))
            } catch {
                out[name] = .failure(error)
            }
        }
        return out
    }
}
