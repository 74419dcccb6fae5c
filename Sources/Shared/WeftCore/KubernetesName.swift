/// Kubernetes' name rules, for config resources and registrations alike (RFC 1123 as Kubernetes applies it).
public enum KubernetesName {
    /// A DNS-1123 label: 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit
    /// (namespaces, service names).
    public static func isLabel(_ s: Substring) -> Bool {
        guard (1...63).contains(s.utf8.count), let first = s.utf8.first, let last = s.utf8.last else { return false }
        return isAlnum(first) && isAlnum(last) && s.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    public static func isLabel(_ s: String) -> Bool { isLabel(Substring(s)) }

    /// A DNS-1123 subdomain: at most 253 characters, labels separated by '.' (resource and workload names).
    /// `.`, `..` and names with '/' or upper-case letters are not.
    public static func isSubdomain(_ s: String) -> Bool {
        guard (1...253).contains(s.utf8.count) else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel($0) }
    }

    /// Why `s` is not a subdomain, as an error message.
    public static func subdomainProblem(_ s: String) -> String {
        "'\(s)' is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters"
    }

    /// Why `s` is not a label, as an error message.
    public static func labelProblem(_ s: String) -> String {
        "'\(s)' is not a valid name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"
    }

    static func isAlnum(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
    }
}
