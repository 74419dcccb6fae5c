// XDSClient: the proxy's edge to the control plane. It speaks state-of-the-world ADS over gRPC (ADSClient),
// and converts each xDS resource once, at the edge, into ProxyRouting's validated runtime values
// (XDSConversion), which SnapshotAssembler joins into a whole ProxySnapshot. A resource that uses a feature the
// proxy cannot honour is refused with a field path (and NACKed), never silently dropped, so the proxy keeps its
// last good config instead of routing differently from Envoy. It must not know the control plane's modules
// (WeftConfig, WeftModel, XDSTranslation, XDSServer, ...): the two sides meet only at the xDS protos and WeftCore.
import EnvoyAPI
import SwiftProtobuf

/// Why an xDS resource was refused: the resource (`Cluster outbound|80||a.b`), the field path inside it
/// (`virtual_hosts[0].routes[2].match.safe_regex.regex`) and plain words. Its description is the NACK text.
public struct XDSConversionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Resource kind and name, e.g. `RouteConfiguration outbound_http`.
    public var resource: String
    /// Path of the offending field in Envoy's snake_case names; empty for the resource as a whole.
    public var path: String
    public var message: String

    public init(resource: String, path: String, message: String) {
        self.resource = resource
        self.path = path
        self.message = message
    }

    public var description: String {
        path.isEmpty ? "\(resource): \(message)" : "\(resource): \(path): \(message)"
    }
}

/// A problem inside a resource, with the path collected while the error travels outwards.
struct FieldError: Error {
    var path: [String]
    var message: String

    init(_ message: String, at path: [String] = []) {
        self.path = path
        self.message = message
    }

    /// Joins `a`, `b[0]`, `c` as `a.b[0].c`.
    var joinedPath: String { path.joined(separator: ".") }
}

/// Runs `body`, prefixing `name` to the path of any FieldError it throws.
func field<T>(_ name: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch var e as FieldError {
        e.path.insert(name, at: 0)
        throw e
    }
}

/// Converts each element, naming it `name[i]` in errors.
func each<S, T>(_ name: String, _ items: [S], _ body: (S) throws -> T) throws -> [T] {
    try items.enumerated().map { i, item in try field("\(name)[\(i)]") { try body(item) } }
}

/// Turns an inner FieldError into the public error for a named resource.
func converting<T>(_ resource: String, _ body: () throws -> T) throws(XDSConversionError) -> T {
    do {
        return try body()
    } catch let e as FieldError {
        throw XDSConversionError(resource: resource, path: e.joinedPath, message: e.message)
    } catch {
        throw XDSConversionError(resource: resource, path: "", message: "\(error)")
    }
}

/// Shared conversions of small protobuf values.
enum Convert {
    /// A protobuf Duration as a Swift one; negative durations, and those beyond what a timer can hold (about
    /// 292 years in nanoseconds), are refused.
    static func duration(_ d: Google_Protobuf_Duration) throws -> Duration {
        guard d.seconds >= 0, d.nanos >= 0 else { throw FieldError("negative duration") }
        guard d.seconds < Int64.max / 1_000_000_000 else { throw FieldError("duration too large") }
        return .seconds(d.seconds) + .nanoseconds(Int64(d.nanos))
    }

    /// A FractionalPercent as parts per million (HUNDRED x10000, TEN_THOUSAND x100, MILLION x1), capped at 100%.
    static func perMillion(_ f: Envoy_Type_V3_FractionalPercent) throws -> Int {
        let scale: Int
        switch f.denominator {
        case .hundred: scale = 10_000
        case .tenThousand: scale = 100
        case .million: scale = 1
        case let .UNRECOGNIZED(v): throw FieldError("unknown denominator \(v)", at: ["denominator"])
        }
        return min(1_000_000, Int(f.numerator) * scale)
    }

    /// Unpacks a typed config, checking that the Any holds `T`.
    static func unpack<T: SwiftProtobuf.Message>(_ any: Google_Protobuf_Any, as _: T.Type) throws -> T {
        let expected = "type.googleapis.com/" + T.protoMessageName
        guard any.typeURL == expected else {
            throw FieldError("expected \(T.protoMessageName), got '\(any.typeURL)'", at: ["type_url"])
        }
        do {
            return try T(unpackingAny: any)
        } catch {
            throw FieldError("cannot decode \(T.protoMessageName): \(error)")
        }
    }

    /// The full protobuf type name inside an Any (`envoy.extensions....HttpConnectionManager`).
    static func typeName(_ any: Google_Protobuf_Any) -> String {
        any.typeURL.split(separator: "/").last.map(String.init) ?? any.typeURL
    }
}
