/// Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
enum UTF8Validation {
    /// Length of the well-formed multi-byte sequence starting at `index` (whose byte is ≥ 0x80)
    /// of the `n` bytes at `input`, or nil when that sequence is ill-formed or truncated.
    @inline(__always)
    static func multiByteSequenceLength(_ input: UnsafeRawPointer, count n: Int, at index: Int) -> Int? {
        @inline(__always) func byte(_ offset: Int) -> UInt8 { input.load(fromByteOffset: offset, as: UInt8.self) }
        let lead = byte(index)
        // Fast path for the common three-byte sequences (all of CJK): E1…EC, EE, EF lead bytes.
        if lead & 0xF0 == 0xE0, lead != 0xE0, lead != 0xED, index + 2 < n,
            byte(index + 1) & 0xC0 == 0x80, byte(index + 2) & 0xC0 == 0x80
        {
            return 3
        }
        @inline(__always) func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            index + offset < n && byte(index + offset) >= low && byte(index + offset) <= high
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : nil
        case 0xE0:
            return continuation(1, 0xA0) && continuation(2) ? 3 : nil  // no overlongs
        case 0xED:
            return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : nil  // no surrogates
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : nil
        case 0xF0:
            return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : nil  // no overlongs
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF4:
            return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : nil  // ≤ U+10FFFF
        default:
            return nil  // stray continuation byte, C0/C1 overlong lead, or F5…FF
        }
    }

    /// Whether the first six bytes of `word` (little-endian load) are two well-formed
    /// three-byte sequences with lead bytes E1…EC, EE or EF (all of common CJK), which need no
    /// range check beyond the continuation bytes: checks two Chinese characters at once.
    @inline(__always)
    static func startsWithTwoCommonThreeByteSequences(_ word: UInt64) -> Bool {
        guard word & 0x0000_C0C0_F0C0_C0F0 == 0x0000_8080_E080_80E0 else { return false }
        let first = word & 0x0F
        let second = (word >> 24) & 0x0F
        return first != 0 && first != 0x0D && second != 0 && second != 0x0D  // not E0 or ED
    }

    /// Offset of the first byte that begins an ill-formed sequence, or nil when the buffer is
    /// valid UTF-8. ASCII runs are skipped eight bytes at a time.
    static func firstInvalidOffset(in bytes: UnsafeRawBufferPointer) -> Int? {
        let n = bytes.count
        var i = 0
        while i < n {
            if i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            if bytes[i] < 0x80 {
                i += 1
                continue
            }
            guard let length = multiByteSequenceLength(bytes.baseAddress!, count: n, at: i) else { return i }
            i += length
        }
        return nil
    }
}

/// Decoding of one multi-byte scalar of valid UTF-8, for the text scanners that walk bytes.
enum UTF8Scalar {
    /// The scalar whose encoding starts with `lead` (≥ 0x80) at `index` of `bytes`, and its length.
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, lead: UInt8) -> (scalar: UInt32, length: Int) {
        let length: Int
        var scalar: UInt32
        if lead < 0xE0 {
            length = 2
            scalar = UInt32(lead & 0x1F)
        } else if lead < 0xF0 {
            length = 3
            scalar = UInt32(lead & 0x0F)
        } else {
            length = 4
            scalar = UInt32(lead & 0x07)
        }
        for offset in 1..<length { scalar = scalar << 6 | UInt32(bytes[index + offset] & 0x3F) }
        return (scalar, length)
    }
}
