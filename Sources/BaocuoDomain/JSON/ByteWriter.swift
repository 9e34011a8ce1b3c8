#if canImport(Glibc)
import Glibc  // memchr, memcmp
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes bytes into space reserved at the end of a `[UInt8]` in one step, for encoders that
/// know an upper bound of their output. A record is then one capacity reservation instead of
/// a checked `Array.append` per piece (each costs a uniqueness check, a capacity check and a
/// generic copy). Every write is still checked against the reservation, so a wrong bound
/// traps rather than writing past it.
struct ByteWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    /// Bytes written so far.
    private(set) var count = 0

    private init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Appends to `out` the bytes `body` writes, which must be at most `bound`.
    @inline(__always)
    static func append(to out: inout [UInt8], bound: Int, _ body: (inout ByteWriter) -> Void) {
        guard bound > 0 else { return }
        out.append(addingCapacity: bound) { span in
            span.withUnsafeMutableBufferPointer { buffer, initialized in
                var writer = ByteWriter(base: buffer.baseAddress! + initialized, capacity: buffer.count - initialized)
                body(&writer)
                initialized += writer.count
            }
        }
    }

    @inline(__always)
    private mutating func reserve(_ byteCount: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(byteCount <= capacity - count, "ByteWriter: more bytes than the bound")
        defer { count += byteCount }
        return base + count
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        reserve(1).initialize(to: byte)
    }

    @inline(__always)
    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        reserve(bytes.count).initialize(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    @inline(__always)
    mutating func write(_ literal: StaticString) {
        write(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    @inline(__always)
    mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    /// Calls `body` for each occurrence of `pattern` in the bytes written since offset `start`,
    /// with the occurrence's offset in those bytes, and the bytes to overwrite in place as it
    /// needs; each later occurrence is searched for in the bytes as `body` left them.
    mutating func forEachOccurrence(
        of pattern: UnsafeRawBufferPointer, writtenSince start: Int,
        _ body: (Int, UnsafeMutableRawBufferPointer) -> Void
    ) {
        guard let patternStart = pattern.baseAddress else { return }
        let written = UnsafeMutableRawBufferPointer(start: base + start, count: count - start)
        let first = Int32(pattern[0])
        var offset = 0
        // memchr finds each candidate start, memcmp confirms it (glibc's memmem is a GNU extension
        // the Glibc module does not export).
        while written.count - offset >= pattern.count,
            let candidate = memchr(written.baseAddress! + offset, first, written.count - offset - pattern.count + 1)
        {
            let candidateOffset = written.baseAddress!.distance(to: candidate)
            if memcmp(candidate, patternStart, pattern.count) == 0 { body(candidateOffset, written) }
            offset = candidateOffset + 1
        }
    }

    /// Writes a fixed-layout run of `byteCount` bytes through `body`: one bound check for the
    /// whole run instead of one per piece.
    @inline(__always)
    mutating func write(byteCount: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) {
        body(reserve(byteCount))
    }

    /// Most bytes `writeDigits` writes: `Int.min` in full.
    static let maxDigitsLength = 20

    /// `value` in decimal, zero-padded to `width` digits (at most 18); a negative value, or
    /// one wider than asked, in full without padding.
    @inline(__always)
    mutating func writeDigits(_ value: Int, width: Int) {
        var limit = 1
        for _ in 0..<width { limit *= 10 }
        guard value >= 0, value < limit else { return writeInFull(value) }
        // Small enough to inline: `width` is a constant at every call, so this loop unrolls.
        let out = reserve(width)
        var rest = UInt(value)
        for position in stride(from: width - 1, through: 0, by: -1) {
            out[position] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
            rest /= 10
        }
    }

    /// `writeDigits` for a value that is negative or wider than asked.
    private mutating func writeInFull(_ value: Int) {
        var magnitude = value.magnitude
        var digitCount = 1
        var rest = magnitude / 10
        while rest > 0 {
            digitCount += 1
            rest /= 10
        }
        let sign = value < 0 ? 1 : 0
        let out = reserve(sign + digitCount)
        if sign == 1 { out[0] = UInt8(ascii: "-") }
        for position in stride(from: sign + digitCount - 1, through: sign, by: -1) {
            out[position] = UInt8(truncatingIfNeeded: 0x30 + magnitude % 10)
            magnitude /= 10
        }
    }

    /// Length of `utf8` (valid UTF-8) written by `writeQuoted`.
    static func quotedLength(_ utf8: UnsafeRawBufferPointer) -> Int {
        var length = 2 + utf8.count
        var k = firstByteNeedingEscape(in: utf8, from: 0)
        while k < utf8.count {
            length += Self.escapeLength(utf8[k]) - 1
            k = firstByteNeedingEscape(in: utf8, from: k + 1)
        }
        return length
    }

    /// Offset of the first byte at or after `start` that `writeQuoted` escapes, or `utf8.count`.
    /// Eight bytes per load: ids and rule names rarely need any escaping.
    @inline(__always)
    private static func firstByteNeedingEscape(in utf8: UnsafeRawBufferPointer, from start: Int) -> Int {
        var k = start
        while k + 8 <= utf8.count {
            let lanes = ByteLanes.needingEscape(in: utf8.loadUnaligned(fromByteOffset: k, as: UInt64.self))
            if lanes != 0 { return k + lanes.trailingZeroBitCount >> 3 }
            k += 8
        }
        while k < utf8.count {
            let c = utf8[k]
            if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return k }
            k += 1
        }
        return k
    }

    @inline(__always)
    private static func escapeLength(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x0C, 0x0A, 0x0D, 0x09: 2
        default: 6  // \u00XX
        }
    }

    /// `utf8` (valid UTF-8) as a quoted JSON string, escaping `"`, `\` and control characters.
    /// Non-ASCII text is written as is (JSON is UTF-8); runs that need no escaping in one piece.
    mutating func writeQuoted(_ utf8: UnsafeRawBufferPointer) {
        write(UInt8(ascii: "\""))
        var runStart = 0
        var k = Self.firstByteNeedingEscape(in: utf8, from: 0)
        while k < utf8.count {
            let c = utf8[k]
            write(UnsafeRawBufferPointer(rebasing: utf8[runStart..<k]))
            runStart = k + 1
            write(UInt8(ascii: "\\"))
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): write(c)
            case 0x08: write(UInt8(ascii: "b"))
            case 0x0C: write(UInt8(ascii: "f"))
            case 0x0A: write(UInt8(ascii: "n"))
            case 0x0D: write(UInt8(ascii: "r"))
            case 0x09: write(UInt8(ascii: "t"))
            default:
                write("u00" as StaticString)
                write(hex(c))
            }
            k = Self.firstByteNeedingEscape(in: utf8, from: runStart)
        }
        write(UnsafeRawBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        write(UInt8(ascii: "\""))
    }
}
