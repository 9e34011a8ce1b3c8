/// A parsed JSON document: the input bytes plus the tape `JSONParser` built over them.
///
/// A document borrows its input: use it only while the buffer passed to `JSONParser.parse`
/// is alive. Nothing is materialized up front; strings become `String`s (unescaped) only
/// when asked, and every value keeps its byte range so callers can splice original bytes.
public struct JSONDocument {
    /// The input the document was parsed from.
    public let bytes: UnsafeRawBufferPointer
    /// All values in document order; see `JSONNode`.
    public let tape: [JSONNode]

    init(bytes: UnsafeRawBufferPointer, tape: [JSONNode]) {
        self.bytes = bytes
        self.tape = tape
    }

    /// The top-level value.
    public var root: JSONValue { JSONValue(index: 0) }

    /// The tape entry of `value`.
    public func node(_ value: JSONValue) -> JSONNode { tape[value.index] }

    /// Whether `value` is an object, array, string, number, boolean or null.
    public func kind(_ value: JSONValue) -> JSONKind { tape[value.index].kind }

    /// Bytes of the value's token in the input (strings with quotes, containers with brackets).
    public func byteRange(_ value: JSONValue) -> Range<Int> { tape[value.index].byteRange }

    /// The exact input bytes of a value.
    public func rawBytes(_ value: JSONValue) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[byteRange(value)])
    }

    // MARK: Containers

    /// The members of an object in input order; empty for non-objects.
    public func members(of object: JSONValue) -> Members {
        Members(tape: tape, object: object)
    }

    /// The elements of an array in input order; empty for non-arrays.
    public func elements(of array: JSONValue) -> Elements {
        Elements(tape: tape, array: array)
    }

    /// The value of the member called `name`, or nil when `object` is not an object or has no
    /// such member. Names are compared as unescaped bytes, without creating strings.
    public func member(of object: JSONValue, named name: StaticString) -> JSONValue? {
        for (key, value) in members(of: object) where stringEquals(key, name) { return value }
        return nil
    }

    /// The key-value pairs of an object, in document order (empty for a non-object).
    public struct Members: Sequence {
        let tape: [JSONNode]
        let object: JSONValue

        /// An iterator from the first member.
        public func makeIterator() -> Iterator {
            let node = tape[object.index]
            return Iterator(tape: tape, position: object.index + 1, remaining: node.kind == .object ? node.memberCount : 0)
        }

        /// Walks the members by skipping each value's subtree.
        public struct Iterator: IteratorProtocol {
            let tape: [JSONNode]
            var position: Int
            var remaining: Int

            /// The next key and value, or nil after the last.
            public mutating func next() -> (key: JSONValue, value: JSONValue)? {
                guard remaining > 0 else { return nil }
                remaining -= 1
                let key = position
                position = tape[key + 1].subtreeEnd
                return (JSONValue(index: key), JSONValue(index: key + 1))
            }
        }
    }

    /// The elements of an array, in order (empty for a non-array).
    public struct Elements: Sequence {
        let tape: [JSONNode]
        let array: JSONValue

        /// An iterator from the first element.
        public func makeIterator() -> Iterator {
            let node = tape[array.index]
            return Iterator(tape: tape, position: array.index + 1, remaining: node.kind == .array ? node.memberCount : 0)
        }

        /// Walks the elements by skipping each one's subtree.
        public struct Iterator: IteratorProtocol {
            let tape: [JSONNode]
            var position: Int
            var remaining: Int

            /// The next element, or nil after the last.
            public mutating func next() -> JSONValue? {
                guard remaining > 0 else { return nil }
                remaining -= 1
                let element = position
                position = tape[element].subtreeEnd
                return JSONValue(index: element)
            }
        }
    }

    // MARK: Strings

    /// The bytes between a string's quotes, escapes not yet resolved.
    public func rawStringContent(_ string: JSONValue) -> UnsafeRawBufferPointer {
        let range = byteRange(string)
        return UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
    }

    /// Calls `body` with the UTF-8 bytes of a string value, escapes resolved. Without escapes
    /// this is the input itself; otherwise a temporary copy.
    @inline(__always)
    public func withStringBytes<R, E: Error>(
        _ string: JSONValue, _ body: (UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        precondition(kind(string) == .string, "not a string value")
        return try JSONDocument.withStringBytes(of: tape[string.index], in: bytes, body)
    }

    /// `withStringBytes` for a string node of a tape over `bytes`; the parser uses it on the
    /// tape it is still building.
    @inline(__always)
    static func withStringBytes<R, E: Error>(
        of node: JSONNode, in bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[(Int(node.start) + 1)..<(Int(node.end) - 1)])
        guard node.hasEscapes else { return try body(raw) }
        var unescaped: [UInt8] = []
        JSONDocument.appendUnescaped(raw, to: &unescaped)
        // `Array.withUnsafeBytes` only rethrows untyped errors, so carry the typed one out.
        let result = unescaped.withUnsafeBytes { buffer in Result { () throws(E) -> R in try body(buffer) } }
        return try result.get()
    }

    /// The value of a string, escapes resolved.
    public func string(_ string: JSONValue) -> String {
        withStringBytes(string) { JSONDocument.makeString($0) }
    }

    /// Appends the UTF-8 bytes of a string value, escapes resolved.
    public func appendStringBytes(_ string: JSONValue, to out: inout [UInt8]) {
        precondition(kind(string) == .string, "not a string value")
        let raw = rawStringContent(string)
        if tape[string.index].hasEscapes {
            JSONDocument.appendUnescaped(raw, to: &out)
        } else {
            out.append(contentsOf: raw)
        }
    }

    /// Whether `value` is a string equal to `text` once unescaped.
    public func stringEquals(_ value: JSONValue, _ text: StaticString) -> Bool {
        guard kind(value) == .string else { return false }
        let raw = rawStringContent(value)
        guard tape[value.index].hasEscapes else { return JSONDocument.bytesEqual(raw, text) }
        return withStringBytes(value) { JSONDocument.bytesEqual($0, text) }
    }

    /// A string value for a human-readable message: at most 40 Unicode scalars, `…` after a cut.
    func displayText(_ string: JSONValue) -> String {
        withStringBytes(string) { JSONDocument.truncatedForDisplay($0) }
    }

    // MARK: Byte helpers

    static func makeString(_ utf8: UnsafeRawBufferPointer) -> String {
        utf8.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
    }

    @inline(__always)
    static func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var k = 0
        while k + 8 <= a.count {
            guard a.loadUnaligned(fromByteOffset: k, as: UInt64.self) == b.loadUnaligned(fromByteOffset: k, as: UInt64.self)
            else { return false }
            k += 8
        }
        while k < a.count {
            guard a[k] == b[k] else { return false }
            k += 1
        }
        return true
    }

    @inline(__always)
    static func bytesEqual(_ a: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        bytesEqual(a, UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Longest text (in Unicode scalars) echoed back in error details.
    static let displayLimit = 40

    /// `utf8` (valid UTF-8) cut to `displayLimit` scalars, with `…` when something was cut.
    static func truncatedForDisplay(_ utf8: UnsafeRawBufferPointer) -> String {
        var scalars = 0
        for k in 0..<utf8.count where utf8[k] & 0xC0 != 0x80 {
            if scalars == displayLimit {
                return makeString(UnsafeRawBufferPointer(rebasing: utf8[0..<k])) + "…"
            }
            scalars += 1
        }
        return makeString(utf8)
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - 0x30)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - 0x57)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - 0x37)
        default: nil
        }
    }

    /// Resolves the escapes of string content the parser has already validated.
    static func appendUnescaped(_ raw: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        func hex4(_ k: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 << 4 | hexValue(raw[k + $1])! }
        }
        var k = 0
        while k < raw.count {
            let c = raw[k]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                k += 1
                continue
            }
            let escape = raw[k + 1]
            k += 2
            switch escape {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(k)
                k += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex4(k + 2) - 0xDC00)
                    k += 6
                }
                out.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
            default: out.append(escape)  // '"', '\\', '/'
            }
        }
    }

    /// Used by the parser for objects too large (or too escaped) for pairwise comparison:
    /// sorts per-process-seeded hashes of the unescaped names (tape indices `keys` of `tape`
    /// over `bytes`) and compares only equal hashes.
    static func duplicateKeyByHashing(_ keys: [Int], in tape: UnsafeBufferPointer<JSONNode>, bytes: UnsafeRawBufferPointer) -> Int? {
        func string(_ key: Int) -> String { withStringBytes(of: tape[key], in: bytes) { makeString($0) } }
        var hashed: [(hash: Int, key: Int)] = []
        hashed.reserveCapacity(keys.count)
        for key in keys {
            var hasher = Hasher()
            withStringBytes(of: tape[key], in: bytes) { hasher.combine(bytes: $0) }
            hashed.append((hasher.finalize(), key))
        }
        hashed.sort { ($0.hash, $0.key) < ($1.hash, $1.key) }
        var firstDuplicate: Int?
        var runStart = 0
        for k in 1..<hashed.count {
            if hashed[k].hash != hashed[runStart].hash {
                runStart = k
                continue
            }
            let name = string(hashed[k].key)
            for earlier in runStart..<k where string(hashed[earlier].key) == name {
                firstDuplicate = min(firstDuplicate ?? .max, hashed[k].key)
            }
        }
        return firstDuplicate
    }
}
