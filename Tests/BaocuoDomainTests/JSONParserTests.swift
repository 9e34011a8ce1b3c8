import Testing

@testable import BaocuoDomain

/// Parses `text` (or raw `bytes`) and returns the outcome with the document's tape copied out.
func parseJSON(_ bytes: [UInt8], maxDepth: Int = 32) -> Result<[JSONNode], JSONError> {
    var parser = JSONParser()
    return bytes.withUnsafeBytes { parser.parse($0, maxDepth: maxDepth).map(\.tape) }
}

func parseJSON(_ text: String, maxDepth: Int = 32) -> Result<[JSONNode], JSONError> {
    parseJSON(Array(text.utf8), maxDepth: maxDepth)
}

func jsonError(_ text: String, maxDepth: Int = 32) -> JSONError? {
    if case .failure(let error) = parseJSON(text, maxDepth: maxDepth) { return error }
    return nil
}

func jsonError(_ bytes: [UInt8]) -> JSONError? {
    if case .failure(let error) = parseJSON(bytes) { return error }
    return nil
}

/// Runs `body` over a parsed document of `text`, which must be valid.
func withDocument<R>(_ text: String, _ body: (JSONDocument) -> R) -> R {
    let bytes = Array(text.utf8)
    var parser = JSONParser()
    return bytes.withUnsafeBytes { buffer in
        guard case .success(let document) = parser.parse(buffer) else { fatalError("invalid test JSON: \(text)") }
        return body(document)
    }
}

@Suite struct JSONParserTests {
    @Test(arguments: [
        "{}", "[]", "0", "-0", "1.5e-3", "1E+2", "-12.0", "true", "false", "null", #""""#,
        #"{"a": [1, {"b": null}], "c": "d"}"#, " \t\r\n[ 1 , 2 ] \n", #"["\u00e9\ud83d\ude00\/\b\f\n\r\t\"\\"]"#,
        #"{"":0}"#, #"["\u0000"]"#, "[[[[]]]]", #"{"a":{},"b":[]}"#,
    ])
    func acceptsValidJSON(_ text: String) {
        #expect(jsonError(text) == nil)
    }

    @Test(arguments: [
        ("", "unexpected end of input at offset 0"),
        ("   ", "unexpected end of input at offset 3"),
        ("[1,]", "trailing comma before ']' at offset 3"),
        (#"{"a":1,}"#, "trailing comma before '}' at offset 7"),
        ("[1 2]", "expected ',' or ']' but found '2' at offset 3"),
        (#"{"a" 1}"#, "expected ':' after a member name but found '1' at offset 5"),
        ("{a:1}", "expected a member name in double quotes but found 'a' at offset 1"),
        ("[01]", "leading zero in a number at offset 1"),
        ("[-01]", "leading zero in a number at offset 1"),
        ("[1.]", "expected a digit after '.' at offset 3"),
        ("[.5]", "unexpected '.' where a value should start at offset 1"),
        ("[+1]", "unexpected '+' where a value should start at offset 1"),
        ("[1e]", "expected a digit in the exponent at offset 3"),
        ("[-]", "expected a digit at offset 2"),
        ("[NaN]", "unexpected 'N' where a value should start at offset 1"),
        ("[-Infinity]", "expected a digit at offset 2"),
        ("[tru]", "unexpected 't' where a value should start at offset 1"),
        ("['a']", "unexpected ''' where a value should start at offset 1"),
        ("[1] // c", "unexpected '/' after the top-level value at offset 4"),
        ("/* c */ [1]", "unexpected '/' where a value should start at offset 0"),
        ("[1] [2]", "unexpected '[' after the top-level value at offset 4"),
        (#"["a"#, "unterminated string starting at offset 1"),
        ("[\"a\u{1}\"]", "unescaped control character 0x01 in a string at offset 3"),
        (#"["\x"]"#, #"invalid escape '\'x'' at offset 2"#),
        (#"["\u12"]"#, #"invalid \u escape at offset 2: needs four hex digits"#),
        (#"["\ud800"]"#, #"lone surrogate in \u escape at offset 2"#),
        (#"["\udc00"]"#, #"lone surrogate in \u escape at offset 2"#),
        (#"["\ud800\u0041"]"#, #"lone surrogate in \u escape at offset 2"#),
        ("[1", "unexpected end of input at offset 2"),
        ("\u{FEFF}[1]", "unexpected byte 0xEF where a value should start at offset 0"),
    ])
    func rejectsInvalidJSONWithPosition(_ text: String, _ detail: String) {
        let error = jsonError(text)
        #expect(error?.kind == .invalidJSON)
        #expect(error?.detail == detail)
    }

    @Test(
        arguments: [
            ([0xC0, 0x80], "overlong NUL"),
            ([0xE0, 0x80, 0x80], "overlong three-byte"),
            ([0xF0, 0x80, 0x80, 0x80], "overlong four-byte"),
            ([0xED, 0xA0, 0x80], "UTF-16 surrogate"),
            ([0xF4, 0x90, 0x80, 0x80], "above U+10FFFF"),
            ([0xF5, 0x80, 0x80, 0x80], "F5 lead"),
            ([0xFF], "FF byte"),
            ([0x80], "stray continuation"),
            ([0xE4, 0xB8], "truncated sequence"),
            ([0xE4, 0x41, 0x41], "missing continuation"),
        ] as [([UInt8], String)])
    func rejectsBrokenUTF8InStrings(_ bad: [UInt8], _ label: String) {
        let document = Array(#"{"k": "a"#.utf8) + bad + Array(#"b"}"#.utf8)
        let error = jsonError(document)
        #expect(error?.kind == .invalidUTF8, "\(label)")
        #expect(error?.detail == "invalid UTF-8 at offset 8", "\(label)")
    }

    @Test func invalidUTF8OutranksAnEarlierSyntaxError() {
        // A syntax error at offset 1, broken UTF-8 further on: the answer does not depend on order.
        let document = Array("[,\"".utf8) + [0xFF] + Array("\"]".utf8)
        #expect(jsonError(document) == JSONError(.invalidUTF8, "invalid UTF-8 at offset 3"))
        // Non-ASCII outside strings is a syntax error when it is valid UTF-8 ...
        #expect(jsonError("[1]é")?.kind == .invalidJSON)
        // ... and a UTF-8 error when it is not.
        #expect(jsonError(Array("[1]".utf8) + [0xC3])?.kind == .invalidUTF8)
    }

    @Test func acceptsValidMultiByteUTF8() {
        #expect(jsonError(#"["郑州 é 😀 \#u{10FFFF} \#u{FFFD}"]"#) == nil)
    }

    @Test func depthLimitIsThirtyTwoByDefault() {
        let thirtyTwo = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        let thirtyThree = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(jsonError(thirtyTwo) == nil)
        #expect(jsonError(thirtyThree) == JSONError(.invalidJSON, "nesting deeper than 32 at offset 32"))
        let objects = String(repeating: #"{"a":"#, count: 33) + "1" + String(repeating: "}", count: 33)
        #expect(jsonError(objects)?.detail == "nesting deeper than 32 at offset 160")
        #expect(jsonError("[[[1]]]", maxDepth: 2) == JSONError(.invalidJSON, "nesting deeper than 2 at offset 2"))
        #expect(jsonError("[[1]]", maxDepth: 2) == nil)
    }

    @Test func duplicateKeysAreRejectedWithTheirPath() {
        #expect(jsonError(#"{"a":1,"b":2,"a":3}"#) == JSONError(.invalidJSON, "duplicate key 'a' at top level"))
        #expect(jsonError(#"{"insured":{"x":1,"y":{},"x":[]}}"#)?.detail == "duplicate key 'x' at insured")
        #expect(jsonError(#"{"attachments":[{},{"k":1,"k":2}]}"#)?.detail == "duplicate key 'k' at attachments[1]")
        #expect(jsonError(#"{"a":{"b":[0,{"c":{"d":1,"d":1}}]}}"#)?.detail == "duplicate key 'd' at a.b[1].c")
        // Names are compared after unescaping.
        #expect(jsonError(#"{"ab":1,"\u0061b":2}"#)?.detail == "duplicate key 'ab' at top level")
        // Same name in different objects is fine.
        #expect(jsonError(#"{"a":{"x":1},"b":{"x":1},"x":0}"#) == nil)
    }

    @Test func duplicateKeysInLargeObjects() {
        let members = (0..<500).map { #""key\#($0)":\#($0)"# }
        #expect(jsonError("{" + members.joined(separator: ",") + "}") == nil)
        let withDuplicate = members + [#""key250":0"#]
        #expect(jsonError("{" + withDuplicate.joined(separator: ",") + "}")?.detail == "duplicate key 'key250' at top level")
        // Signature collisions in small objects (same length, first and last byte) are not duplicates.
        #expect(jsonError(#"{"axb":1,"ayb":2,"azb":3,"a":4,"b":5}"#) == nil)
    }

    @Test func duplicateKeyNamesAreTruncatedInDetails() {
        let long = String(repeating: "k", count: 100)
        let detail = jsonError(#"{"\#(long)":1,"\#(long)":2}"#)?.detail
        #expect(detail == "duplicate key '\(String(repeating: "k", count: 40))…' at top level")
    }

    @Test func tapeRecordsKindsRangesAndSubtrees() throws {
        let text = #"{"a": [1, "x"], "b": {"c": null}}"#
        let tape = try parseJSON(text).get()
        #expect(tape.map(\.kind) == [.object, .string, .array, .number, .string, .string, .object, .string, .null])
        #expect(tape[0].byteRange == 0..<text.utf8.count)
        #expect(tape[0].memberCount == 2)
        #expect(tape[2].memberCount == 2)
        #expect(tape[2].byteRange == 6..<14)
        #expect(tape[2].subtreeEnd == 5)
        #expect(tape[4].byteRange == 10..<13)
        #expect(tape[6].subtreeEnd == 9)
        #expect(tape[0].subtreeEnd == 9)
    }

    @Test func documentNavigationAndStrings() {
        withDocument(#"{"name": "a\"b\\c\u4e2d\ud83d\ude00", "list": [1, true], "k\u0065y": "v"}"#) { document in
            let root = document.root
            #expect(document.kind(root) == .object)
            let name = document.member(of: root, named: "name")
            #expect(name.map(document.string) == "a\"b\\c中😀")
            #expect(document.member(of: root, named: "key").map(document.string) == "v")
            #expect(document.member(of: root, named: "nope") == nil)
            let list = document.member(of: root, named: "list")!
            #expect(Array(document.elements(of: list)).map(document.kind) == [.number, .true])
            #expect(Array(document.members(of: root)).map { document.string($0.key) } == ["name", "list", "key"])
            #expect(Array(document.members(of: list)).isEmpty)
            var out: [UInt8] = []
            document.appendStringBytes(name!, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "a\"b\\c中😀")
            #expect(document.stringEquals(document.member(of: root, named: "key")!, "v"))
        }
    }

    @Test func parserIsReusableAcrossDocuments() throws {
        var parser = JSONParser()
        let first = Array(#"{"a": [1, 2, 3]}"#.utf8)
        let second = Array(#"["x"]"#.utf8)
        let firstTape = first.withUnsafeBytes { parser.parse($0).map(\.tape) }
        let secondTape = second.withUnsafeBytes { parser.parse($0).map(\.tape) }
        let firstAgain = first.withUnsafeBytes { parser.parse($0).map(\.tape) }
        #expect(try firstTape.get().count == 6)
        #expect(try secondTape.get().count == 2)
        #expect(try firstAgain.get() == firstTape.get())
        let broken = Array("[1,]".utf8)
        #expect(
            broken.withUnsafeBytes { parser.parse($0).map(\.tape) }
                == .failure(JSONError(.invalidJSON, "trailing comma before ']' at offset 3")))
        #expect(try first.withUnsafeBytes { parser.parse($0).map(\.tape) }.get() == firstTape.get())
    }
}

@Suite struct JSONWriterTests {
    @Test func escapesQuotesBackslashesAndControlCharacters() {
        var out: [UInt8] = []
        JSONWriter.appendString("a\"b\\c\n\r\t\u{8}\u{C}\u{1}\u{1F}中😀/", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\"b\\c\n\r\t\b\f\u0001\u001F中😀/""#)
    }

    @Test(arguments: ["", "plain", "引号\"与\\反斜杠", "\u{0}\u{7F}", String(repeating: "长", count: 300)])
    func writtenStringsParseBackToTheSameText(_ text: String) {
        var out: [UInt8] = []
        JSONWriter.appendString(text, to: &out)
        out.withUnsafeBytes { buffer in
            var parser = JSONParser()
            guard case .success(let document) = parser.parse(buffer) else {
                Issue.record("writer produced invalid JSON")
                return
            }
            #expect(document.string(document.root) == text)
        }
    }

    @Test func appendsKeys() {
        var out: [UInt8] = []
        JSONWriter.appendKey("reportId", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""reportId":"#)
    }
}
