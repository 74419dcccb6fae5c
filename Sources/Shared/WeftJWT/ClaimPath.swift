import WeftCore

// Nested claim lookup, for Istio's `request.auth.claims[a][b]` and `claim_to_headers`.

extension JSONValue {
    /// The value reached by looking up each key of `path` in turn, object by object; nil when a key is absent or
    /// a step is not an object. An empty path is the value itself.
    public func value(at path: some Sequence<String>) -> JSONValue? {
        var current = self
        for key in path {
            guard let next = current[key] else { return nil }
            current = next
        }
        return current
    }

    /// The claim's values as strings, as Istio matches them: a string is one value, an array gives each string
    /// in it, anything else none.
    public var claimStrings: [String] {
        switch self {
        case let .string(s): [s]
        case let .array(items): items.compactMap(\.stringValue)
        default: []
        }
    }
}
