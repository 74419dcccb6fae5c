/// Read access to a request's headers, whatever type the codec keeps them in (ProxyHTTP conforms NIO's
/// `HTTPHeaders`), so routing and filters need no NIO. Names are matched case-insensitively.
public protocol HeaderLookup: Sendable {
    /// The first value of a header, or nil.
    func first(name: String) -> String?
    /// Every value of a header joined with commas (Envoy's view of a repeated header), or nil when absent.
    func joinedValues(_ name: String) -> String?
}

/// Headers that can be edited (a route's `HeaderEdits`); the names are NIO's, so its `HTTPHeaders` conforms as is.
public protocol EditableHeaders {
    mutating func add(name: String, value: String)
    mutating func remove(name: String)
    mutating func replaceOrAdd(name: String, value: String)
}

/// A plain ordered list of headers: a local reply's headers, and requests in tests.
public struct HeaderList: HeaderLookup, EditableHeaders, Sendable, Equatable, ExpressibleByDictionaryLiteral, Sequence {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(String, String)] = []) { self.fields = fields.map { (name: $0.0, value: $0.1) } }
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    public mutating func add(name: String, value: String) { fields.append((name, value)) }
    public mutating func remove(name: String) { fields.removeAll { $0.name.lowercased() == name.lowercased() } }
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    public func first(name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public func joinedValues(_ name: String) -> String? {
        let values = fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public static func == (a: HeaderList, b: HeaderList) -> Bool {
        a.fields.elementsEqual(b.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}
