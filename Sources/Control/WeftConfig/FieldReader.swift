import WeftCore

/// Collects the diagnostics of one document while it is decoded; decoding goes on after a problem so the user
/// sees every problem at once.
public final class DecodeContext {
    public var diagnostics: [Diagnostic] = []
    public let file: String
    public var resource: String = ""

    public init(file: String) { self.file = file }

    /// Warnings: accepted input the user should know about (a field Weft reads but does not apply yet).
    public var warnings: [Diagnostic] = []

    public func error(_ path: String, _ message: String) {
        diagnostics.append(Diagnostic(file: file, resource: resource, path: path, message: message))
    }

    public func warn(_ path: String, _ message: String) {
        warnings.append(Diagnostic(file: file, resource: resource, path: path, message: message))
    }

    /// A field Weft accepts, as Istio does, but does not put into effect yet (listed in docs/istio-support.md).
    public func notApplied(_ path: String) {
        warn(path, "accepted but not applied by Weft yet (see docs/istio-support.md)")
    }
}

/// Reads the fields of one JSON object and reports unknown ones when `finish()` is called.
public final class ObjectReader {
    public let pairs: [(String, JSONValue)]
    public let path: String
    public let ctx: DecodeContext
    private var used: Set<String> = []

    public init?(_ value: JSONValue?, path: String, ctx: DecodeContext) {
        guard let value else { return nil }
        guard case let .object(pairs) = value else {
            ctx.error(path, "must be an object")
            return nil
        }
        self.pairs = pairs
        self.path = path
        self.ctx = ctx
    }

    public func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key`, or of its proto field name (`prefix_rewrite` for `prefixRewrite`): Istio reads its
    /// YAML as protobuf JSON, which accepts both spellings.
    public func raw(_ key: String) -> JSONValue? {
        used.insert(key)
        let proto = Self.protoName(key)
        if proto != key { used.insert(proto) }
        guard let v = pairs.first(where: { $0.0 == key || $0.0 == proto })?.1, v != .null else { return nil }
        return v
    }

    public func has(_ key: String) -> Bool {
        let proto = Self.protoName(key)
        return pairs.contains { $0.0 == key || $0.0 == proto }
    }

    /// `lowerCamelCase` as the proto field name `lower_camel_case`.
    static func protoName(_ key: String) -> String {
        guard key.contains(where: \.isUppercase) else { return key }
        var out = ""
        for c in key {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }

    public func string(_ key: String, required: Bool = false) -> String? {
        guard let v = raw(key) else {
            if required { ctx.error(sub(key), "missing required field") }
            return nil
        }
        guard case let .string(s) = v else {
            ctx.error(sub(key), "must be a string")
            return nil
        }
        if required && s.isEmpty { ctx.error(sub(key), "must not be empty") }
        return s
    }

    /// A string field where "" means unset, as proto3 reads it.
    public func nonEmptyString(_ key: String) -> String? { string(key).flatMap { $0.isEmpty ? nil : $0 } }

    public func int(_ key: String, required: Bool = false) -> Int? {
        guard let v = raw(key) else {
            if required { ctx.error(sub(key), "missing required field") }
            return nil
        }
        if case let .number(n) = v, n.rounded() == n, abs(n) < 1e15 { return Int(n) }
        if case let .string(s) = v, let n = Int(s) { return n }
        ctx.error(sub(key), "must be a whole number")
        return nil
    }

    public func double(_ key: String) -> Double? {
        guard let v = raw(key) else { return nil }
        if case let .number(n) = v { return n }
        ctx.error(sub(key), "must be a number")
        return nil
    }

    public func bool(_ key: String) -> Bool? {
        guard let v = raw(key) else { return nil }
        if case let .bool(b) = v { return b }
        ctx.error(sub(key), "must be true or false")
        return nil
    }

    /// A duration such as `1s` or `250ms`, in nanoseconds.
    public func duration(_ key: String) -> Int64? {
        guard let s = string(key) else { return nil }
        switch ConfigDuration.parse(s) {
        case let .success(ns): return ns
        case let .failure(p):
            ctx.error(sub(key), ConfigDuration.message(s, p))
            return nil
        }
    }

    public func object(_ key: String) -> ObjectReader? { ObjectReader(raw(key), path: sub(key), ctx: ctx) }

    /// An array whose elements are decoded by `element(value, path)`.
    public func array<T>(_ key: String, _ element: (JSONValue, String) -> T?) -> [T] {
        guard let v = raw(key) else { return [] }
        guard case let .array(items) = v else {
            ctx.error(sub(key), "must be a list")
            return []
        }
        return items.enumerated().compactMap { i, item in element(item, "\(sub(key))[\(i)]") }
    }

    public func objects<T>(_ key: String, _ decode: (ObjectReader) -> T?) -> [T] {
        array(key) { value, path in ObjectReader(value, path: path, ctx: ctx).flatMap(decode) }
    }

    public func strings(_ key: String) -> [String] {
        array(key) { value, path in
            if case let .string(s) = value { return s }
            ctx.error(path, "must be a string")
            return nil
        }
    }

    /// A map of string to string, such as labels.
    public func stringMap(_ key: String) -> [String: String] {
        guard let r = object(key) else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in r.pairs {
            r.used.insert(k)
            if case let .string(s) = v { out[k] = s } else { ctx.error(r.sub(k), "must be a string (quote numbers and booleans)") }
        }
        return out
    }

    /// A map of string to object, decoded per entry; entries keep document order.
    public func objectMap<T>(_ key: String, _ decode: (ObjectReader) -> T?) -> [(String, T)] {
        guard let r = object(key) else { return [] }
        var out: [(String, T)] = []
        for (k, v) in r.pairs {
            r.used.insert(k)
            if let o = ObjectReader(v, path: r.sub(k), ctx: ctx), let t = decode(o) { out.append((k, t)) }
        }
        return out
    }

    /// One of a fixed set of names; reports the allowed names otherwise.
    public func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) -> E? where E.RawValue == String {
        guard let s = string(key) else { return nil }
        if let e = E(rawValue: s) { return e }
        ctx.error(sub(key), "'\(s)' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        return nil
    }

    /// Reports every field that no decoder asked for.
    public func finish() {
        for (k, _) in pairs where !used.contains(k) {
            ctx.error(sub(k), "unknown field '\(k)'")
        }
    }
}
