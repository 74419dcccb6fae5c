import Foundation

/// Checks that a pattern is one Envoy's RE2 engine accepts: it must compile, and must not use the
/// features RE2 leaves out on purpose (look-around, back-references, possessive quantifiers).
enum RE2Check {
    static func problem(in pattern: String) -> String? {
        let unsupported: [(String, String)] = [
            ("(?=", "look-ahead is not supported by RE2"), ("(?!", "negative look-ahead is not supported by RE2"),
            ("(?<=", "look-behind is not supported by RE2"), ("(?<!", "negative look-behind is not supported by RE2"),
            ("(?>", "atomic groups are not supported by RE2"), ("*+", "possessive quantifiers are not supported by RE2"),
            ("++", "possessive quantifiers are not supported by RE2"),
        ]
        for (token, why) in unsupported where pattern.contains(token) { return why }
        var escaped = false
        for ch in pattern {
            if escaped, ch.isNumber, ch != "0" { return "back-references are not supported by RE2" }
            escaped = !escaped && ch == "\\"
        }
        do {
            _ = try NSRegularExpression(pattern: pattern)
        } catch {
            return "it does not compile"
        }
        return nil
    }
}
