import Testing

@testable import BaocuoDomain

/// The automaton against the plainest possible matcher: every pattern at every byte offset.
struct KeywordAutomatonTests {
    static let words = [
        "备案", "未备案", "备案不存在", "案", "不存在", "timeout", "time", "out", "e3012", "网络",
        "网络超时", "超时", "社保卡", "卡", "é", "😀x", "ab", "b",
    ]
    static let patterns =
        words.enumerated().map { (bytes: Array($0.element.utf8), output: $0.offset % 7) }
        + [(bytes: Array("备案".utf8), output: 9)]  // the same text with a second output

    /// The outputs of every byte-wise occurrence of a pattern in `text`, sorted.
    static func bruteForce(_ text: ArraySlice<UInt8>) -> [Int] {
        var outputs: [Int] = []
        for start in text.indices {
            for pattern in patterns where text[start...].starts(with: pattern.bytes) { outputs.append(pattern.output) }
        }
        return outputs.sorted()
    }

    @Test func reportsExactlyTheByteWiseOccurrencesInRandomText() {
        let automaton = KeywordAutomaton(patterns: Self.patterns)!
        // Fragments of the patterns, characters in none, and bytes that are not well-formed UTF-8
        // (a lone lead, a cut sequence, a stray continuation, overlong, surrogate, out of range).
        let pieces: [[UInt8]] =
            Self.words.map { Array($0.utf8) } + ["的", "时间", "a", "x", "0", "😀"].map { Array($0.utf8) }
            + [[0x00], [0xE5], [0xE5, 0xA4], [0x87], [0xC0, 0xAF], [0xE0, 0x81, 0xA1], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80]]
        var generator = SeededGenerator(state: 7)
        for _ in 0..<500 {
            var text: [UInt8] = []
            for _ in 0..<Int(generator.next() % 12) {
                var piece = pieces[Int(generator.next() % UInt64(pieces.count))]
                if generator.next() % 5 == 0, piece.count > 1 { piece.removeLast() }  // cut a character short
                text += piece
            }
            // Every prefix: a scan reports an occurrence once its last byte is read, never before.
            text.withUnsafeBufferPointer { buffer in
                for end in 0...buffer.count {
                    var reported: [Int] = []
                    automaton.scan(UnsafeBufferPointer(rebasing: buffer[0..<end])) { reported.append($0) }
                    #expect(reported.sorted() == Self.bruteForce(text[0..<end]), "\(text[0..<end])")
                }
            }
        }
    }

    @Test func refusesPatternsThatNeedTooManyStates() {
        // Distinct three-character patterns share no prefix beyond the first character.
        let scalars = (0x4E00..<0x4E00 + 200).compactMap(Unicode.Scalar.init)
        var many: [(bytes: [UInt8], output: Int)] = []
        for first in scalars.prefix(2) {
            for second in scalars {
                for third in scalars.prefix(90) {
                    many.append((Array(String([Character(first), Character(second), Character(third)]).utf8), 0))
                }
            }
        }
        #expect(KeywordAutomaton(patterns: many) == nil)
        #expect(KeywordAutomaton(patterns: Array(many.prefix(1_000))) != nil)
    }
}
