import ProxyConfig

/// A trace's context as a caller sends it: W3C `traceparent` (and `tracestate`), or B3 (`x-b3-*` headers or the
/// single `b3` header). Pure parsing and formatting; the proxy continues a context it finds (same trace, the
/// caller's span as parent, the caller's sampling decision) and starts one otherwise.
public struct TraceContext: Sendable, Equatable {
    public enum Style: Sendable, Equatable { case w3c, b3Multi, b3Single }

    public var traceHigh: UInt64
    public var traceLow: UInt64
    /// The caller's span; nil for a new trace.
    public var parentSpan: UInt64?
    /// The caller's sampling decision; nil when it made none.
    public var sampled: Bool?
    public var traceState: String?
    /// B3 headers the caller used (besides or instead of W3C), rewritten for the upstream in the same style.
    public var b3: Style?

    public init(traceHigh: UInt64, traceLow: UInt64, parentSpan: UInt64? = nil, sampled: Bool? = nil,
                traceState: String? = nil, b3: Style? = nil) {
        self.traceHigh = traceHigh
        self.traceLow = traceLow
        self.parentSpan = parentSpan
        self.sampled = sampled
        self.traceState = traceState
        self.b3 = b3
    }

    public var traceIDHex: String {
        var out = [UInt8]()
        out.reserveCapacity(32)
        Hex.append(traceHigh, to: &out)
        Hex.append(traceLow, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `00-<trace>-<span>-<flags>`, formatted in one buffer.
    public func traceparent(span: UInt64, sampled: Bool) -> String {
        var out = [UInt8]()
        out.reserveCapacity(55)
        out.append(contentsOf: "00-".utf8)
        Hex.append(traceHigh, to: &out)
        Hex.append(traceLow, to: &out)
        out.append(UInt8(ascii: "-"))
        Hex.append(span, to: &out)
        out.append(contentsOf: (sampled ? "-01" : "-00").utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// The caller's context: W3C first (as Envoy's OpenTelemetry tracer reads it), then B3; nil when there is none
    /// or it is malformed (a new trace starts, as the W3C spec says).
    public static func extract(_ h: any HeaderLookup) -> TraceContext? {
        let single = h.first(name: "b3")
        let multi = h.first(name: "x-b3-traceid") != nil
        let b3: Style? = multi ? .b3Multi : single != nil ? .b3Single : nil
        if let tp = h.first(name: "traceparent"), var c = parseTraceparent(tp) {
            c.traceState = h.first(name: "tracestate")
            c.b3 = b3
            return c
        }
        if multi, let c = parseB3Multi(h) { return c }
        if let s = single, let c = parseB3Single(s) { return c }
        return nil
    }

    /// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
    static func parseTraceparent(_ s: String) -> TraceContext? {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              let hi = Hex.parse(parts[1].prefix(16)), let lo = Hex.parse(parts[1].suffix(16)), hi | lo != 0,
              let parent = Hex.parse(parts[2]), parent != 0, let flags = Hex.parse(parts[3]) else { return nil }
        if parts[0] == "00" && parts.count != 4 { return nil }
        return TraceContext(traceHigh: hi, traceLow: lo, parentSpan: parent, sampled: flags & 1 == 1)
    }

    static func parseB3Multi(_ h: any HeaderLookup) -> TraceContext? {
        guard let t = h.first(name: "x-b3-traceid"), let (hi, lo) = traceID(t),
              let s = h.first(name: "x-b3-spanid"), s.count == 16, let span = Hex.parse(Substring(s)) else { return nil }
        var sampled: Bool?
        if h.first(name: "x-b3-flags") == "1" {
            sampled = true
        } else if let v = h.first(name: "x-b3-sampled") {
            sampled = v == "1" || v.lowercased() == "true"
        }
        return TraceContext(traceHigh: hi, traceLow: lo, parentSpan: span, sampled: sampled, b3: .b3Multi)
    }

    /// `b3: {traceid}-{spanid}[-{sampled}[-{parentspanid}]]`; a bare `0`/`1`/`d` is only a decision (no context).
    static func parseB3Single(_ s: String) -> TraceContext? {
        let parts = s.split(separator: "-")
        guard parts.count >= 2, let (hi, lo) = traceID(String(parts[0])), parts[1].count == 16, let span = Hex.parse(parts[1]) else {
            return nil
        }
        var sampled: Bool?
        if parts.count >= 3 { sampled = parts[2] == "1" || parts[2] == "d" }
        return TraceContext(traceHigh: hi, traceLow: lo, parentSpan: span, sampled: sampled, b3: .b3Single)
    }

    static func traceID(_ t: String) -> (UInt64, UInt64)? {
        switch t.count {
        case 32:
            guard let hi = Hex.parse(Substring(t).prefix(16)), let lo = Hex.parse(Substring(t).suffix(16)), hi | lo != 0 else { return nil }
            return (hi, lo)
        case 16:
            guard let lo = Hex.parse(Substring(t)), lo != 0 else { return nil }
            return (0, lo)
        default: return nil
        }
    }

    /// The headers that carry this trace to the upstream with `span` as the parent: `traceparent` (and
    /// `tracestate`) always, the caller's B3 style too.
    public func headers(span: UInt64, sampled: Bool) -> [(String, String)] {
        let id = traceIDHex
        var out = [("traceparent", traceparent(span: span, sampled: sampled))]
        if let s = traceState { out.append(("tracestate", s)) }
        switch b3 {
        case .b3Multi?:
            let b3ID = traceHigh == 0 ? Hex.u64(traceLow) : id
            out += [("x-b3-traceid", b3ID), ("x-b3-spanid", Hex.u64(span)), ("x-b3-sampled", sampled ? "1" : "0")]
            if let p = parentSpan { out.append(("x-b3-parentspanid", Hex.u64(p))) }
        case .b3Single?:
            let b3ID = traceHigh == 0 ? Hex.u64(traceLow) : id
            out.append(("b3", "\(b3ID)-\(Hex.u64(span))-\(sampled ? "1" : "0")" + (parentSpan.map { "-" + Hex.u64($0) } ?? "")))
        default: break
        }
        return out
    }

    /// Headers `headers(span:sampled:)` may set, removed first so the caller's values are replaced.
    public static let headerNames = ["traceparent", "tracestate", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled",
                                     "x-b3-flags", "b3"]
}

/// Lower-case hex of fixed-width ids.
public enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    /// 16 lower-case hex digits of `v`.
    public static func append(_ v: UInt64, to out: inout [UInt8]) {
        var shift: UInt64 = 60
        while true {
            out.append(digits[Int((v >> shift) & 0xF)])
            if shift == 0 { break }
            shift -= 4
        }
    }

    public static func u64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return s.count == 16 ? s : String(repeating: "0", count: 16 - s.count) + s
    }

    public static func parse<S: StringProtocol>(_ s: S) -> UInt64? {
        guard !s.isEmpty, s.count <= 16 else { return nil }
        var v: UInt64 = 0
        for c in s.utf8 {
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            default: return nil
            }
            v = v << 4 | UInt64(d)
        }
        return v
    }
}
