/// One sample of Prometheus' text format: `name{label="value",...} 12`.
public struct PromSample: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var value: Double

    public init(_ name: String, _ labels: [String: String] = [:], _ value: Double) {
        self.name = name
        self.labels = labels
        self.value = value
    }
}

/// Reads Prometheus' text exposition format (what Envoy's and weft proxy's `/stats/prometheus` serve): comments
/// and malformed lines are skipped; `keep` picks the metric names worth parsing the labels of.
public enum PromText {
    public static func parse(_ text: String, keep: (Substring) -> Bool = { _ in true }) -> [PromSample] {
        var out: [PromSample] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let first = line.first, first != "#" else { continue }
            let nameEnd = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
            let name = line[..<nameEnd]
            guard keep(name), nameEnd < line.endIndex else { continue }
            var labels: [String: String] = [:]
            var rest = line[nameEnd...]
            if rest.first == "{" {
                guard let (parsed, after) = parseLabels(rest.dropFirst()) else { continue }
                labels = parsed
                rest = after
            }
            let valueText = rest.drop { $0 == " " }.prefix { $0 != " " }
            guard let value = Double(valueText) ?? special(valueText) else { continue }
            out.append(PromSample(String(name), labels, value))
        }
        return out
    }

    static func special(_ s: Substring) -> Double? {
        switch s {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: nil
        }
    }

    /// `a="x",b="y\"z"}` -> labels and what follows the closing brace.
    static func parseLabels(_ s: Substring) -> ([String: String], Substring)? {
        var labels: [String: String] = [:]
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "}" { return (labels, s[s.index(after: i)...]) }
            if s[i] == "," || s[i] == " " { i = s.index(after: i); continue }
            guard let eq = s[i...].firstIndex(of: "="), s.index(after: eq) < s.endIndex, s[s.index(after: eq)] == "\"" else { return nil }
            let key = String(s[i..<eq])
            var value = ""
            var j = s.index(eq, offsetBy: 2)
            var closed = false
            while j < s.endIndex {
                let c = s[j]
                if c == "\\", s.index(after: j) < s.endIndex {
                    let n = s[s.index(after: j)]
                    value.append(n == "n" ? "\n" : n)
                    j = s.index(j, offsetBy: 2)
                    continue
                }
                if c == "\"" { closed = true; j = s.index(after: j); break }
                value.append(c)
                j = s.index(after: j)
            }
            guard closed else { return nil }
            labels[key] = value
            i = j
        }
        return nil
    }
}
