import WeftCore

/// Envoy's dynamic metadata of a request: values filters write for later filters, by filter name and key (the
/// JWT filter's verified payload under `envoy.filters.http.jwt_authn` / `payload`, which RBAC metadata matchers
/// read). A request has one or two entries, so they are a short list (no hashing); empty costs nothing.
public struct DynamicMetadata: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var filter: String
        public var key: String
        public var value: JSONValue
    }
    public private(set) var entries: [Entry] = []

    public init() {}

    public var isEmpty: Bool { entries.isEmpty }

    /// Sets `key` in the namespace of `filter`.
    public mutating func set(filter: String, key: String, _ value: JSONValue) {
        if let i = entries.firstIndex(where: { $0.filter == filter && $0.key == key }) {
            entries[i].value = value
        } else {
            entries.append(Entry(filter: filter, key: key, value: value))
        }
    }

    /// The value at `path` below `filter` (the first key in the filter's namespace, the rest through objects), as
    /// Envoy's Metadata::metadataValue walks it; nil when any step is missing or not an object.
    public func value(filter: String, path: [String]) -> JSONValue? {
        guard let first = path.first, var v = entries.first(where: { $0.key == first && $0.filter == filter })?.value else { return nil }
        for key in path.dropFirst() {
            guard let next = v[key] else { return nil }
            v = next
        }
        return v
    }
}

/// Header edits filters make to a request (the JWT filter removes the token and adds claim headers), applied to
/// what goes upstream and seen by the filters after them. Names are lowercase.
public struct RequestHeaderEdits: Sendable, Equatable {
    public enum Op: Sendable, Equatable {
        case set(String, String)
        case add(String, String)
        case remove(String)

        var name: String {
            switch self {
            case let .set(n, _), let .add(n, _), let .remove(n): return n
            }
        }
    }
    public private(set) var ops: [Op] = []

    public init() {}

    public var isEmpty: Bool { ops.isEmpty }

    public mutating func append(_ op: Op) { ops.append(op) }

    /// Applies the edits in order.
    public func apply<H: EditableHeaders>(to headers: inout H) {
        for op in ops {
            switch op {
            case let .set(n, v): headers.replaceOrAdd(name: n, value: v)
            case let .add(n, v): headers.add(name: n, value: v)
            case let .remove(n): headers.remove(name: n)
            }
        }
    }

    /// The header's value after the edits, from its value before them; nil when the edits do not touch it.
    public func edited(_ name: String, original: () -> String?) -> String?? {
        guard ops.contains(where: { $0.name == name }) else { return nil }
        var value = original()
        for op in ops where op.name == name {
            switch op {
            case let .set(_, v): value = v
            case let .add(_, v): value = value.map { $0 + "," + v } ?? v
            case .remove: value = nil
            }
        }
        return .some(value)
    }
}
