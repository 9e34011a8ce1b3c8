/// Helpers for writing JSON text into byte buffers (used by the record encoders).
public enum JSONWriter {
    /// Appends `text` as a quoted JSON string, escaping `"`, `\` and control characters.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendString(utf8: UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Appends valid UTF-8 `utf8` as a quoted JSON string. Non-ASCII text is written as is
    /// (JSON is UTF-8); runs that need no escaping are copied in one piece.
    public static func appendString(utf8: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        ByteWriter.append(to: &out, bound: ByteWriter.quotedLength(utf8)) { $0.writeQuoted(utf8) }
    }

    /// Appends literal bytes (JSON punctuation and fixed member names) in one copy.
    @inline(__always)
    public static func appendLiteral(_ literal: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends `"key":` for a member name that needs no escaping (a literal of the encoder).
    public static func appendKey(_ key: StaticString, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        out.append(contentsOf: "\":".utf8)
    }
}
