/// Envoy's `normalize_path` and `merge_slashes` (Istio's default path normalisation is `BASE`: normalise, do
/// not merge): percent-encoded dots are decoded, `.` and `..` segments removed as RFC 3986 section 5.2.4 says (a
/// `..` above the root stays at the root), and with `mergeSlashes` runs of `/` become one. The query is left as
/// it is. Routing and the upstream both see the normalised path, so `/public/../admin` cannot slip past a
/// route that matches `/admin`.
public enum PathNormalizer {
    public static func normalize(_ uri: String, mergeSlashes: Bool) -> String {
        let q = uri.firstIndex(of: "?")
        let rawPath = q.map { uri[..<$0] } ?? Substring(uri)
        let query = q.map { uri[$0...] } ?? ""
        guard rawPath.first == "/" else { return uri }  // "*" (OPTIONS) and authority-form are left alone
        // The common case, checked without allocating: nothing to decode, no dot segment, no slash run to merge.
        if !needsWork(rawPath, mergeSlashes: mergeSlashes) { return uri }
        var path = decodeDots(rawPath)
        if mergeSlashes {
            path = mergingSlashes(path)
        }
        return removeDotSegments(path) + query
    }

    /// Whether `path` holds a `%`, a segment starting with `.`, or (when merging) a `//`.
    static func needsWork(_ path: Substring, mergeSlashes: Bool) -> Bool {
        var previous: UInt8 = 0
        for c in path.utf8 {
            if c == UInt8(ascii: "%") { return true }
            if previous == UInt8(ascii: "/") && (c == UInt8(ascii: ".") || (mergeSlashes && c == UInt8(ascii: "/"))) { return true }
            previous = c
        }
        return false
    }

    /// Only runs of `/` merged (merge_slashes without normalize_path).
    public static func mergingSlashes(_ uri: String) -> String {
        let q = uri.firstIndex(of: "?")
        let path = q.map { uri[..<$0] } ?? Substring(uri)
        var merged = ""
        for c in path where !(c == "/" && merged.last == "/") { merged.append(c) }
        return merged + (q.map { uri[$0...] } ?? "")
    }

    /// `%2e` and `%2E` become `.`; every other escape stays as sent.
    static func decodeDots(_ s: Substring) -> String {
        guard s.contains("%") else { return String(s) }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "%", let a = s.index(i, offsetBy: 1, limitedBy: s.endIndex), a < s.endIndex,
               let b = s.index(a, offsetBy: 1, limitedBy: s.endIndex), b < s.endIndex,
               s[a] == "2", s[b] == "e" || s[b] == "E" {
                out.append(".")
                i = s.index(after: b)
            } else {
                out.append(s[i])
                i = s.index(after: i)
            }
        }
        return out
    }

    /// RFC 3986 5.2.4 on an absolute path.
    static func removeDotSegments(_ path: String) -> String {
        guard path.contains(".") else { return path }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var out: [Substring] = []
        for (i, seg) in segments.enumerated() {
            let last = i == segments.count - 1
            switch seg {
            case ".":
                if last { out.append("") }
            case "..":
                if !out.isEmpty { out.removeLast() }
                if last { out.append("") }
            default:
                out.append(seg)
            }
        }
        return "/" + out.joined(separator: "/")
    }
}
