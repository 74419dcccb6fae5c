import Foundation
import Testing
import WeftConfig

/// Every YAML example of docs/security.md decodes and validates, so the page never shows config Weft refuses
/// (their behaviour is exercised end to end in tests/e2e/test_authz.py and test_jwt.py).
@Suite struct SecurityDocExamplesTests {
    static func examples() throws -> [String] {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/security.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        return text.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
    }

    @Test func everyExampleIsValidConfig() throws {
        let blocks = try Self.examples()
        #expect(blocks.count >= 5)
        for block in blocks {
            do {
                let resources = try ResourceDecoder.decode(text: block, file: "docs/security.md")
                #expect(!resources.isEmpty)
            } catch {
                Issue.record("docs/security.md example refused: \(error.diagnostics)\n\(block)")
            }
        }
    }
}
