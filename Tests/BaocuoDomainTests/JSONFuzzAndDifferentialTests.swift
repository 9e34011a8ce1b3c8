import Foundation
import Testing

@testable import BaocuoDomain

/// SplitMix64: a tiny deterministic generator, so every run tries the same inputs.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct JSONFuzzTests {
    /// Random byte edits of the sample lines never crash the decoder, and every answer holds
    /// up: a decoded report is internally valid, a rejection is a decoder code with a detail
    /// that does not echo the person ID, and a reused parser answers like a fresh one.
    @Test func mutatedSamplesAlwaysGetAConsistentAnswer() {
        var random = SeededGenerator(state: 20_261_123)
        let decoder = ReportDecoder()
        var parser = JSONParser()
        let interesting: [UInt8] =
            Array(#"{}[]",:\ 0123456789-.eEtrufalsn"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xE4, 0xED, 0xF4, 0xFF]
        var decoded = 0
        var codes: Set<RejectCode> = []
        for round in 0..<4000 {
            let original = Samples.reportLines[round % Samples.reportLines.count]
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes[position] = interesting.randomElement(using: &random)!
                case 2: bytes.remove(at: position)
                case 3: bytes.insert(interesting.randomElement(using: &random)!, at: position)
                default: bytes.removeSubrange(position...)
                }
            }
            let fresh = decoder.decode(bytes)
            let reused = bytes.withUnsafeBytes { decoder.decode($0, using: &parser) }
            #expect(fresh == reused)
            switch fresh {
            case .success(let report):
                decoded += 1
                #expect(report.reportId.utf8.count >= 1 && report.reportId.utf8.count <= 64)
                #expect(report.insuredRegionCode.utf8.count == 6 && report.hospitalRegionCode.utf8.count == 6)
                #expect(report.failureCode != nil || report.failureMessage != nil)
                if let personId = report.personId, let range = report.personIdValueRange {
                    #expect(ResidentID.isValid(personId))
                    #expect(bytes[range.lowerBound] == UInt8(ascii: "\"") && bytes[range.upperBound - 1] == UInt8(ascii: "\""))
                } else {
                    #expect(report.personId == nil && report.personIdValueRange == nil)
                }
            case .failure(let rejection):
                codes.insert(rejection.code)
                #expect(![.tooLarge, .unknownRegion, .forbiddenAgency].contains(rejection.code))
                #expect(!rejection.detail.isEmpty)
                #expect(!rejection.detail.contains("1990010"), "detail echoes a person ID")
            }
        }
        // The mutations reach both outcomes and the interesting reject codes.
        #expect(decoded > 100)
        #expect(codes.isSuperset(of: [.invalidUTF8, .invalidJSON, .missingField, .invalidField]))
    }
}

/// Our parser against Foundation's JSONSerialization (tests only) on generated documents.
@Suite struct JSONDifferentialTests {
    /// A random JSON value as text, with random whitespace, escapes and non-ASCII text,
    /// no duplicate keys and nesting below our limit.
    static func randomJSON(depth: Int, using random: inout SeededGenerator) -> String {
        func whitespace() -> String { ["", " ", "\n", "\t ", "\r\n"].randomElement(using: &random)! }
        func string() -> String {
            let pieces = [
                "a", "Z", "中文", "é", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\u4e2d", "\\ud83d\\ude00", "\\u0000", " ", "-",
            ]
            return "\"" + (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() + "\""
        }
        let choice = depth >= 6 ? Int.random(in: 2..<6, using: &random) : Int.random(in: 0..<6, using: &random)
        switch choice {
        case 0:
            let members = (0..<Int.random(in: 0...4, using: &random)).map { index in
                "\"k\(index)\(["", "中", "\\u0041"].randomElement(using: &random)!)\"" + whitespace() + ":" + whitespace()
                    + randomJSON(depth: depth + 1, using: &random)
            }
            return "{" + whitespace() + members.joined(separator: "," + whitespace()) + whitespace() + "}"
        case 1:
            let elements = (0..<Int.random(in: 0...4, using: &random)).map { _ in randomJSON(depth: depth + 1, using: &random) }
            return "[" + whitespace() + elements.joined(separator: whitespace() + "," + whitespace()) + "]"
        case 2: return string()
        case 3: return ["0", "-0", "12", "-3.25", "1e5", "2.5E-3", "1E+2", "123456789"].randomElement(using: &random)!
        case 4: return ["true", "false"].randomElement(using: &random)!
        default: return "null"
        }
    }

    static func foundationAccepts(_ bytes: [UInt8]) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    /// Compares a parsed value with Foundation's reading of the same text.
    static func agree(_ document: JSONDocument, _ value: JSONValue, _ other: Any) -> Bool {
        switch document.kind(value) {
        case .object:
            guard let dictionary = other as? [String: Any], dictionary.count == document.node(value).memberCount else { return false }
            return document.members(of: value).allSatisfy { key, member in
                dictionary[document.string(key)].map { agree(document, member, $0) } ?? false
            }
        case .array:
            guard let array = other as? [Any], array.count == document.node(value).memberCount else { return false }
            return zip(document.elements(of: value), array).allSatisfy { agree(document, $0, $1) }
        case .string:
            return (other as? String) == document.string(value)
        case .number:
            let text = String(decoding: document.rawBytes(value), as: UTF8.self)
            return (other as? NSNumber)?.doubleValue == Double(text)
        case .true, .false:
            return (other as? Bool) == (document.kind(value) == .true)
        case .null:
            return other is NSNull
        }
    }

    @Test func generatedDocumentsParseLikeFoundation() {
        var random = SeededGenerator(state: 8259)
        var parser = JSONParser()
        for _ in 0..<1500 {
            let bytes = Array(Self.randomJSON(depth: 0, using: &random).utf8)
            guard let foundation = Self.foundationAccepts(bytes) else {
                Issue.record("Foundation rejects a generated document: \(String(decoding: bytes, as: UTF8.self))")
                continue
            }
            bytes.withUnsafeBytes { buffer in
                switch parser.parse(buffer) {
                case .success(let document):
                    #expect(Self.agree(document, document.root, foundation), "\(String(decoding: bytes, as: UTF8.self))")
                case .failure(let error):
                    Issue.record("rejected \(String(decoding: bytes, as: UTF8.self)): \(error)")
                }
            }
        }
    }

    /// Single-byte edits of valid documents: where we accept, Foundation accepts and reads the
    /// same values; where we reject for a reason Foundation shares, it rejects too. (We are
    /// stricter on duplicate keys, lone surrogates and invalid UTF-8; those are not compared.)
    @Test func mutatedDocumentsAreAcceptedOrRejectedLikeFoundation() {
        var random = SeededGenerator(state: 3629)
        var parser = JSONParser()
        let alphabet = Array(#"{}[]",: 0123456789-+.eEtrufalsn\/ux"#.utf8)
        var compared = 0
        for _ in 0..<3000 {
            var bytes = Array(Self.randomJSON(depth: 0, using: &random).utf8)
            let position = Int.random(in: 0..<bytes.count, using: &random)
            if Bool.random(using: &random) {
                bytes[position] = alphabet.randomElement(using: &random)!
            } else {
                bytes.remove(at: position)
            }
            let foundation = Self.foundationAccepts(bytes)
            bytes.withUnsafeBytes { buffer in
                switch parser.parse(buffer) {
                case .success(let document):
                    compared += 1
                    #expect(
                        foundation.map { Self.agree(document, document.root, $0) } == true,
                        "we accept, Foundation differs: \(String(decoding: bytes, as: UTF8.self))")
                case .failure(let error):
                    guard !error.detail.hasPrefix("duplicate key"), !error.detail.hasPrefix("lone surrogate"),
                        error.kind == .invalidJSON
                    else { return }
                    compared += 1
                    #expect(foundation == nil, "we reject (\(error.detail)), Foundation accepts: \(String(decoding: bytes, as: UTF8.self))")
                }
            }
        }
        #expect(compared > 2500)
    }
}
