/// The text form of a locality, `region[/zone[/subzone]]`, as proxies, workloads and DestinationRules write it.
public enum LocalityText {
    /// `region`, `region/zone` or `region/zone/subzone`; with `wildcards`, any part may be `*`.
    public static func isValid(_ text: String, wildcards: Bool) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), !parts.contains(where: \.isEmpty) else { return false }
        return parts.allSatisfy { p in
            if p == "*" { return wildcards }
            return p.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
        }
    }
}
