/// libyaml (under Yams) refuses a plain scalar in a flow collection when a `:` starts it or is followed by `,`,
/// `]` or `}`, as in `addresses: [2001:db8::, ::1]`; Kubernetes' YAML parser reads those as strings, and so must
/// Weft for users' YAML to work unchanged. `DocumentLoader` calls this only after a parse fails: it puts quotes
/// around such IPv6-looking plain scalars inside `[...]` and `{...}`, and returns nil when there is none.
enum FlowColonScalars {
    static func quote(_ text: String) -> String? {
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        var flow = 0
        var quote: Character? = nil, comment = false, previous: Character = "\n", changed = false
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "\n" { comment = false }
            if comment || c == "\n" {
                out.append(c); previous = c; i = text.index(after: i); continue
            }
            if let q = quote {
                if c == q { quote = nil }
                out.append(c); previous = c; i = text.index(after: i); continue
            }
            switch c {
            case "#" where previous == " " || previous == "\t" || previous == "\n": comment = true
            case "\"", "'" where " \t\n,[{:".contains(previous): quote = c
            case "[", "{": flow += 1
            case "]", "}": flow = max(0, flow - 1)
            default:
                if flow > 0 && " \t\n,[{".contains(previous) && !" \t,[]{}".contains(c) {
                    var j = i
                    while j < text.endIndex && !" \t\n,[]{}".contains(text[j]) { j = text.index(after: j) }
                    let token = text[i..<j]
                    if looksLikeIPv6(token) {
                        out += "\"\(token)\""
                        changed = true
                        previous = text[text.index(before: j)]
                        i = j
                        continue
                    }
                }
            }
            out.append(c); previous = c; i = text.index(after: i)
        }
        return changed ? out : nil
    }

    /// Hex groups and colons with `::` (an IPv4 tail, `/prefix` and `%zone` allowed): what libyaml trips on.
    static func looksLikeIPv6(_ s: Substring) -> Bool {
        guard s.contains("::"), s.filter({ $0 == ":" }).count >= 2 else { return false }
        let body = s.split(separator: "%", maxSplits: 1).first ?? s
        return body.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "/" }
    }
}
