import Testing
import WeftCore
@testable import WeftJWT

/// The JSON reader behind token headers, payloads and key sets, and base64url.
@Suite struct JSONParserTests {
    @Test func nestedValuesKeepTypesAndOrder() throws {
        let v = try #require(JSONParser.parse(#" {"b": [1, -2.5e3, true, false, null, {"c": {}}, []], "a": "x"} "#))
        #expect(v == .object([
            ("b", .array([.number(1), .number(-2500), .bool(true), .bool(false), .null, .object([("c", .object([]))]), .array([])])),
            ("a", .string("x")),
        ]))
        #expect(JSONParser.parse("0") == .number(0))
        #expect(JSONParser.parse("-0.5") == .number(-0.5))
        #expect(JSONParser.parse("1E+2") == .number(100))
        #expect(JSONParser.parse("1800000000") == .number(1_800_000_000))
        #expect(JSONParser.parse(#""""#) == .string(""))
    }

    @Test func stringEscapesAndUnicode() {
        #expect(JSONParser.parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        #expect(JSONParser.parse(#""caf\u00e9 \u00E9""#) == .string("café é"))
        #expect(JSONParser.parse(#""\ud83d\ude00!""#) == .string("😀!"))
        #expect(JSONParser.parse("\"naïve 😀\"") == .string("naïve 😀"))
        #expect(JSONParser.parse(#""\u0000""#) == .string("\u{0}"))
    }

    @Test func invalidDocumentsAreRefused() {
        let bad = [
            "", " ", "{", "}", "[1,]", "[1 2]", #"{"a" 1}"#, #"{"a":1,}"#, #"{a:1}"#, "{\"a\":1} x", "tru", "nul",
            "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", #""abc"#, "\"a\nb\"", #""\x""#, #""\u12""#,
            #""\ud83d""#, #""\ud83dx""#, #""\ude00""#, #""\ud83d\u0041""#, "'a'",
        ]
        for text in bad { #expect(JSONParser.parse(text) == nil, "\(text)") }
        #expect(JSONParser.parse([0x22, 0xFF, 0x22]) == nil)  // invalid UTF-8 in a string
    }

    @Test func depthIsBounded() {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(JSONParser.parse(ok) != nil)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(JSONParser.parse(deep) == nil)
        #expect(JSONParser.parse(String(repeating: "[", count: 100_000)) == nil)
    }

    @Test func base64URLRoundTrips() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.encode(Array("hi?>".utf8)) == "aGk_Pg")
        #expect(Base64URL.decode("aGk_Pg") == Array("hi?>".utf8))
        #expect(Base64URL.decode("aGk_Pg==") == Array("hi?>".utf8))  // padding tolerated
        #expect(Base64URL.decode("") == [])
        #expect(Base64URL.decode("aGk/Pg") == nil)
        #expect(Base64URL.decode("aGk_P") == nil)  // 5 characters: not whole bytes
        #expect(Base64URL.decode("aG k") == nil)
        #expect(Base64URL.decode("aGk=Pg") == nil)
    }
}
