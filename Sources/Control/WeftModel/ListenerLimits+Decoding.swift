import WeftConfig
import WeftCore

extension ListenerLimits {
    /// Reads a `limits` block (mesh.yaml `options.limits`, or the whole file of `weft control --limits`); fields
    /// not given keep their defaults. Every number is range-checked; problems go to the reader's context with
    /// their field path.
    public static func decode(_ r: ObjectReader) -> ListenerLimits {
        var l = ListenerLimits()
        func int(_ key: String, _ range: ClosedRange<Int>, _ into: inout Int, _ reader: ObjectReader) {
            guard let v = reader.int(key) else { return }
            guard range.contains(v) else {
                reader.ctx.error(reader.sub(key), "must be between \(range.lowerBound) and \(range.upperBound), got \(v)")
                return
            }
            into = v
        }
        func duration(_ key: String, _ into: inout Int64) {
            guard let ns = r.duration(key) else { return }
            guard ns >= 0 else { return r.ctx.error(r.sub(key), "must not be negative") }
            into = ns
        }
        int("maxHeadersCount", 1...10_000, &l.maxHeadersCount, r)
        int("maxRequestHeadersKb", 1...8192, &l.maxRequestHeadersKb, r)
        duration("requestHeadersTimeout", &l.requestHeadersTimeoutNanos)
        duration("idleTimeout", &l.idleTimeoutNanos)
        duration("streamIdleTimeout", &l.streamIdleTimeoutNanos)
        int("maxConnections", 0...1_000_000_000, &l.maxConnections, r)
        int("perConnectionBufferLimitBytes", 1024...Int(Int32.max), &l.perConnectionBufferLimitBytes, r)
        int("prematureResetsPerSecond", 0...1_000_000_000, &l.prematureResetsPerSecond, r)
        if let p = pathNormalization(r) { l.pathNormalization = p }
        if let h2 = r.object("http2") {
            int("maxConcurrentStreams", 1...Int(Int32.max), &l.http2MaxConcurrentStreams, h2)
            int("initialStreamWindowSize", 65_535...Int(Int32.max), &l.http2InitialStreamWindow, h2)
            int("initialConnectionWindowSize", 65_535...Int(Int32.max), &l.http2InitialConnectionWindow, h2)
            h2.finish()
        }
        r.finish()
        return l
    }

    /// `pathNormalization: BASE`, or Istio's MeshConfig shape `pathNormalization: {normalization: BASE}`.
    static func pathNormalization(_ r: ObjectReader) -> PathNormalization? {
        guard let v = r.raw("pathNormalization") else { return nil }
        if case .object = v, let o = r.object("pathNormalization") {
            defer { o.finish() }
            return check(o.string("normalization"), o, o.sub("normalization"))
        }
        return check(r.string("pathNormalization"), r, r.sub("pathNormalization"))
    }

    static func check(_ s: String?, _ r: ObjectReader, _ path: String) -> PathNormalization? {
        guard let s else { return nil }
        if let p = PathNormalization(rawValue: s) { return p }
        if s == "DECODE_AND_MERGE_SLASHES" {
            r.ctx.error(path, "'\(s)' is not supported yet (decoding %2F and %5C); use NONE, BASE or MERGE_SLASHES")
        } else {
            r.ctx.error(path, "'\(s)' is not one of \(PathNormalization.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return nil
    }

    /// A `weft control --limits` file: one YAML or JSON document holding the fields of a `limits` block.
    public static func decode(text: String, file: String) throws(DiagnosticError) -> ListenerLimits {
        let ctx = DecodeContext(file: file)
        let top = try DocumentLoader.singleObject(text, file: file, ctx: ctx)
        let limits = decode(top)
        guard ctx.diagnostics.isEmpty else { throw DiagnosticError(ctx.diagnostics) }
        return limits
    }
}
