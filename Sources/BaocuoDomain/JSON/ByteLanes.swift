/// Byte tests on eight bytes at once (a little-endian `UInt64` load), for scans of JSON text.
/// Each returns bit 7 set in the lanes that pass; only the lowest set lane is exact (a borrow
/// can flag lanes above a true one), which is all a "find the first" scan needs.
enum ByteLanes {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let high: UInt64 = 0x8080_8080_8080_8080

    /// Lanes equal to `byte`.
    @inline(__always)
    static func equal(to byte: UInt8, in word: UInt64) -> UInt64 {
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & high
    }

    /// Lanes below 0x20: the control characters JSON strings must escape.
    @inline(__always)
    static func control(in word: UInt64) -> UInt64 {
        (word &- ones &* 0x20) & ~word & high
    }

    /// Lanes that a JSON string cannot hold as they are: `"`, `\` and control characters.
    @inline(__always)
    static func needingEscape(in word: UInt64) -> UInt64 {
        equal(to: UInt8(ascii: "\""), in: word) | equal(to: UInt8(ascii: "\\"), in: word) | control(in: word)
    }

    /// Lanes above 0x7F: bytes of non-ASCII UTF-8 sequences.
    @inline(__always)
    static func nonASCII(in word: UInt64) -> UInt64 { word & high }
}
