import WeftConfig
import WeftCore

/// Parses JSON replies with the same loader as config files.
enum DocumentLoaderBridge {
    static func parse(_ text: String) throws -> JSONValue {
        try DocumentLoader.documents(text, file: "reply").first ?? .null
    }
}
