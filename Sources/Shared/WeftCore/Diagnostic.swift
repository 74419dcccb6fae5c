/// One problem found in user input: where it is (file, resource, field path) and what is wrong, in plain words.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file (or API source name) the resource came from; empty when unknown.
    public var file: String
    /// The resource, as `Kind namespace/name`; empty for file-level problems.
    public var resource: String
    /// The field path inside the resource, for example `spec.http[0].match[0].uri.regex`.
    public var path: String
    public var message: String

    public init(file: String = "", resource: String = "", path: String = "", message: String) {
        self.file = file
        self.resource = resource
        self.path = path
        self.message = message
    }

    /// `FILE: Kind ns/name: field.path: message`, leaving out the parts that are unknown.
    public var description: String {
        [file, resource, path, message].filter { !$0.isEmpty }.joined(separator: ": ")
    }
}

/// A set of diagnostics thrown together: input with any of them is refused whole.
public struct DiagnosticError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
