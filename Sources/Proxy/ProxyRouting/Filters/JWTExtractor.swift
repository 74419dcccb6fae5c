import ProxyConfig

/// Where a set of JWT providers looks for tokens, compiled once (Envoy's jwt_authn Extractor): header locations
/// by header name and value prefix, then query parameters, then cookies, each in name order, with the issuers
/// that named the location (a provider without an issuer accepts any). A token found is checked only against
/// the issuers of its location.
struct JWTExtractor: Sendable {
    struct Location: Sendable {
        var place: JWTLocation
        /// nil: any issuer (a provider with no issuer uses this location).
        var issuers: Set<String>?
        /// A header location's value prefix, as bytes.
        var prefix: [UInt8] = []

        func allows(_ issuer: String) -> Bool { issuers?.contains(issuer) ?? true }
    }
    /// A token found in a request, with where it was.
    struct Token {
        var text: Substring
        var location: Location
    }
    let headers: [Location]
    let params: [Location]
    let cookies: [Location]
    /// Headers removed before looking: what the providers write themselves (payload and claim headers).
    let sanitized: [String]

    init(_ providers: [JWTProvider]) {
        var headers: [String: Location] = [:], params: [String: Location] = [:], cookies: [String: Location] = [:]
        func add(_ table: inout [String: Location], _ key: String, _ place: JWTLocation, _ issuer: String) {
            var l = table[key] ?? Location(place: place, issuers: [])
            if issuer.isEmpty { l.issuers = nil } else { l.issuers?.insert(issuer) }
            table[key] = l
        }
        for p in providers {
            for place in p.locations {
                switch place {
                case let .header(name, prefix):
                    add(&headers, name + prefix, .header(name: name.lowercased(), prefix: prefix), p.issuer)
                    headers[name + prefix]?.prefix = Array(prefix.utf8)
                case let .queryParameter(name): add(&params, name, place, p.issuer)
                case let .cookie(name): add(&cookies, name, place, p.issuer)
                }
            }
        }
        self.headers = headers.sorted { $0.key < $1.key }.map(\.value)
        self.params = params.sorted { $0.key < $1.key }.map(\.value)
        self.cookies = cookies.sorted { $0.key < $1.key }.map(\.value)
        sanitized = providers.flatMap(\.sanitizedHeaders)
    }

    /// Every token the request carries in these locations, in Envoy's order (checked from the last).
    func extract(_ request: FilterRequest) -> [Token] {
        var tokens: [Token] = []
        for l in headers {
            guard case let .header(name, _) = l.place, let value = request.header(name) else { continue }
            if let token = Self.token(in: value, after: l.prefix) { tokens.append(Token(text: token, location: l)) }
        }
        if !params.isEmpty, let query = Self.query(request.uri) {
            for l in params {
                guard case let .queryParameter(name) = l.place, let v = Self.parameter(name, in: query) else { continue }
                tokens.append(Token(text: Substring(v), location: l))
            }
        }
        if !cookies.isEmpty, let header = request.header("cookie") {
            for l in cookies {
                guard case let .cookie(name) = l.place, let v = Self.cookie(name, in: header) else { continue }
                tokens.append(Token(text: v, location: l))
            }
        }
        return tokens
    }

    /// Envoy's extractJWT: the value as it is when `prefix` is empty; else nil when the prefix is nowhere in it,
    /// or, after its first occurrence, the first run of base64url and `.` characters (the whole value when there is
    /// none). A byte search over the value's contiguous UTF-8, allocating nothing.
    static func token(in value: String, after prefix: [UInt8]) -> Substring? {
        if prefix.isEmpty { return Substring(value) }
        var v = value
        let range: Range<Int>?? = v.withUTF8 { b -> Range<Int>? in
            guard b.count >= prefix.count else { return nil }
            var at = -1
            search: for i in 0...(b.count - prefix.count) {
                for j in 0..<prefix.count where b[i + j] != prefix[j] { continue search }
                at = i
                break
            }
            guard at >= 0 else { return nil }
            var start = at + prefix.count
            while start < b.count, !legal(b[start]) { start += 1 }
            if start == b.count { return 0..<b.count }
            var end = start
            while end < b.count, legal(b[end]) { end += 1 }
            return start..<end
        }
        guard let found = range ?? nil else { return nil }
        let u = value.utf8
        return value[u.index(u.startIndex, offsetBy: found.lowerBound)..<u.index(u.startIndex, offsetBy: found.upperBound)]
    }

    @inline(__always) static func legal(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F || b == 0x2E
    }

    static func query(_ uri: String) -> Substring? {
        let u = uri.utf8
        guard let q = u.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        let end = u[q...].firstIndex(of: UInt8(ascii: "#")) ?? u.endIndex
        return uri[u.index(after: q)..<end]
    }

    /// The first value of a query parameter, percent-decoded.
    static func parameter(_ name: String, in query: Substring) -> String? {
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if percentDecoded(kv[0]) == name { return kv.count > 1 ? percentDecoded(kv[1]) : "" }
        }
        return nil
    }

    static func percentDecoded(_ s: Substring) -> String {
        guard s.utf8.contains(UInt8(ascii: "%")) || s.utf8.contains(UInt8(ascii: "+")) else { return String(s) }
        var out: [UInt8] = []
        var i = s.utf8.startIndex
        let u = s.utf8
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: return b - 0x30
            case 0x41...0x46: return b - 0x37
            case 0x61...0x66: return b - 0x57
            default: return nil
            }
        }
        while i < u.endIndex {
            let b = u[i]
            if b == UInt8(ascii: "%"), let j = u.index(i, offsetBy: 2, limitedBy: u.endIndex), j < u.endIndex,
               let h = hex(u[u.index(after: i)]), let l = hex(u[j]) {
                out.append(h << 4 | l)
                i = u.index(after: j)
                continue
            }
            out.append(b)
            i = u.index(after: i)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A cookie's value from a Cookie header (`a=1; b="2"`), without surrounding quotes.
    static func cookie(_ name: String, in header: String) -> Substring? {
        for part in header.split(whereSeparator: { $0 == ";" || $0 == "," }) {
            let kv = part.drop { $0 == " " }.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, kv[0] == name else { continue }
            var v = kv[1]
            if v.count >= 2, v.first == "\"", v.last == "\"" { v = v.dropFirst().dropLast() }
            return v
        }
        return nil
    }
}
