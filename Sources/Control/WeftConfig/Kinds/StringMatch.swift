/// Istio's StringMatch: exact, prefix or RE2 regex; `present` is an empty match (header must exist).
public enum StringMatch: Hashable, Sendable {
    case exact(String)
    case prefix(String)
    case regex(String)
    case present

    static func decode(_ r: ObjectReader) -> StringMatch? {
        defer { r.finish() }
        var found: [StringMatch] = []
        if let s = r.string("exact") { found.append(.exact(s)) }
        if let s = r.string("prefix") { found.append(.prefix(s)) }
        if let s = r.string("regex") { found.append(.regex(s)) }
        if found.count > 1 { r.ctx.error(r.path, "set only one of exact, prefix, regex") }
        return found.first ?? .present
    }
}

/// Header edits: set replaces, add appends, remove deletes.
public struct HeaderOperations: Hashable, Sendable {
    public var `set`: [String: String] = [:]
    public var add: [String: String] = [:]
    public var remove: [String] = []

    public var isEmpty: Bool { self.set.isEmpty && add.isEmpty && remove.isEmpty }

    static func decode(_ r: ObjectReader) -> HeaderOperations {
        defer { r.finish() }
        return HeaderOperations(set: r.stringMap("set"), add: r.stringMap("add"), remove: r.strings("remove"))
    }
}

/// Istio's Headers: operations on the request and on the response.
public struct Headers: Hashable, Sendable {
    public var request = HeaderOperations()
    public var response = HeaderOperations()

    static func decode(_ r: ObjectReader) -> Headers {
        defer { r.finish() }
        return Headers(
            request: r.object("request").map(HeaderOperations.decode) ?? HeaderOperations(),
            response: r.object("response").map(HeaderOperations.decode) ?? HeaderOperations()
        )
    }
}

/// A destination: a service host, optionally a subset and a port.
public struct Destination: Hashable, Sendable {
    public var host: String
    public var subset: String?
    public var port: Int?

    static func decode(_ r: ObjectReader) -> Destination? {
        defer { r.finish() }
        let host = r.string("host", required: true) ?? ""
        let subset = r.string("subset")
        var port: Int?
        if let p = r.object("port") {
            port = p.int("number", required: true)
            p.finish()
        }
        return Destination(host: host, subset: subset, port: port)
    }
}

/// Istio's Percent: a value from 0 to 100.
func decodePercent(_ r: ObjectReader) -> Double? {
    defer { r.finish() }
    return r.double("value")
}
