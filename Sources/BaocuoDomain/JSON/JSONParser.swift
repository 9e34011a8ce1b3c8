/// A strict RFC 8259 JSON parser over raw bytes that produces a flat tape of `JSONNode`s.
///
/// Strict means: no trailing commas, comments, `NaN`/`Infinity`, leading zeros, byte-order mark
/// or unknown escapes; lone surrogates in `\u` escapes are invalid; text must be strict UTF-8
/// (`JSONError.Kind.invalidUTF8` wins over any other problem, so the answer does not depend on
/// where the first problem sits); nesting and the number of values are limited; and an object
/// with two members of the same name (after unescaping) is rejected rather than guessing which
/// one was meant.
///
/// Keep one parser per thread of work and call `parse` repeatedly: the tape's storage is reused
/// across calls as long as the previous `JSONDocument` is no longer held.
public struct JSONParser: Sendable {
    /// Containers may nest this deep unless the caller asks otherwise (CONTRACT §2).
    public static let defaultMaxDepth = 32
    /// Documents may hold this many values (scalars and containers, member names included)
    /// unless the caller asks otherwise. It bounds the tape, and so the memory and work of one
    /// parse, independently of the byte size: a report has a few dozen values, while 1 MiB of
    /// `[0,0,…]` would otherwise make half a million tape nodes (10 MB).
    public static let defaultMaxValues = 100_000

    private var tape: [JSONNode]

    /// A parser with an empty tape, sized for a typical report.
    public init() {
        tape = []
        tape.reserveCapacity(128)
    }

    /// Parses `bytes` as one JSON document whose containers nest at most `maxDepth` deep
    /// (the top-level container is depth 1) and that holds at most `maxValues` values. The
    /// document refers to `bytes` and is valid only while they are.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int = JSONParser.defaultMaxDepth,
        maxValues: Int = JSONParser.defaultMaxValues
    ) -> Result<JSONDocument, JSONError> {
        tape.removeAll(keepingCapacity: true)
        // Every node takes at least one byte of input of its own, and the value-count check
        // lets at most one member name past `maxValues`: the tape fits in this bound, so the
        // builder writes nodes straight into reserved storage (no per-node capacity and
        // uniqueness checks). The storage is kept for the next parse.
        let bound = max(0, min(bytes.count, maxValues)) + 1
        var failure: JSONError?
        tape.append(addingCapacity: bound) { span in
            span.withUnsafeMutableBufferPointer { storage, initialized in
                var builder = TapeBuilder(bytes: bytes, maxDepth: maxDepth, maxValues: maxValues, storage: storage)
                do throws(JSONError) {
                    try builder.buildDocument()
                } catch {
                    failure = error
                }
                initialized = builder.nodeCount
            }
        }
        if var error = failure {
            // Invalid UTF-8 anywhere outranks any other problem; only failures pay for this scan.
            if error.kind != .invalidUTF8, let offset = UTF8Validation.firstInvalidOffset(in: bytes) {
                error = JSONError(.invalidUTF8, "invalid UTF-8 at offset \(offset)")
            }
            return .failure(error)
        }
        return .success(JSONDocument(bytes: bytes, tape: tape))
    }
}

/// The single-pass, non-recursive scanner behind `JSONParser`.
private struct TapeBuilder {
    let bytes: UnsafeRawBufferPointer
    /// `bytes.baseAddress` (any address for an empty input, which is never read) and its count:
    /// the scanners read through these, sparing an optional check per byte.
    let input: UnsafeRawPointer
    let n: Int
    let maxDepth: Int
    let maxValues: Int
    /// Reserved room for the tape; the nodes built so far are `tape`.
    let storage: UnsafeMutableBufferPointer<JSONNode>
    /// `storage.baseAddress` (never empty: the bound counts one node more than can be built).
    let nodes: UnsafeMutablePointer<JSONNode>
    var nodeCount = 0
    /// Read position in `bytes`.
    var i = 0
    /// Tape index of the innermost container still being filled, or `noContainer`.
    /// Its kind and running member count are kept in locals, not on the tape, while it is open.
    var open = TapeBuilder.noContainer
    var openIsObject = false
    var openCount: UInt32 = 0
    /// One bit per name signature seen in the open object (parked in its node's `end`, unused
    /// until it closes, while a child is open); all ones once two signatures coincided or a name
    /// had escapes. Distinct signatures mean distinct names, so only such objects need the
    /// duplicate-key check at their close.
    var openNameSignatures: UInt32 = 0
    var depth = 0

    static let namesMayRepeat = UInt32.max

    static let noContainer = -1
    /// `JSONNode.link` of an open top-level container: it has no enclosing one.
    static let noParentLink = UInt32.max

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int, maxValues: Int, storage: UnsafeMutableBufferPointer<JSONNode>) {
        self.bytes = bytes
        input = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        n = bytes.count
        self.maxDepth = maxDepth
        self.maxValues = maxValues
        self.storage = storage
        nodes = storage.baseAddress!
    }

    @inline(__always)
    func byte(_ offset: Int) -> UInt8 { input.load(fromByteOffset: offset, as: UInt8.self) }

    @inline(__always)
    func word(_ offset: Int) -> UInt64 { input.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }

    /// The nodes built so far.
    var tape: UnsafeMutableBufferPointer<JSONNode> { UnsafeMutableBufferPointer(rebasing: storage[0..<nodeCount]) }

    @inline(__always)
    mutating func append(_ node: JSONNode) {
        precondition(nodeCount < storage.count, "JSON tape larger than its bound")
        (nodes + nodeCount).initialize(to: node)
        nodeCount &+= 1
    }

    mutating func buildDocument() throws(JSONError) {
        // Offsets are stored in 32 bits; real callers cap records far below this.
        guard n < Int(UInt32.max) else { throw invalid("document larger than 4 GiB") }
        try parseValues()
        skipWhitespace()
        if i < n {
            throw invalid("unexpected \(describeByte(at: i)) after the top-level value at offset \(i)")
        }
    }

    // MARK: Structure

    /// Parses one value (the document's root) with everything nested in it, iteratively.
    mutating func parseValues() throws(JSONError) {
        nextValue: while true {
            skipWhitespace()
            guard i < n else { throw endOfInput() }
            // Every pass appends exactly one node (member names are appended by `parseKey`).
            guard nodeCount < maxValues else {
                throw JSONError(.tooManyValues, "more than \(maxValues) JSON values; the next starts at offset \(i)")
            }
            switch byte(i) {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = byte(i) == UInt8(ascii: "{")
                try openContainer(isObject: isObject)
                skipWhitespace()
                if i < n, byte(i) == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    try closeContainer()
                } else {
                    if isObject { try parseKey() }
                    continue nextValue
                }
            case UInt8(ascii: "\""):
                try scanString()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try scanNumber()
            case UInt8(ascii: "t"):
                try scanLiteral("true", .true)
            case UInt8(ascii: "f"):
                try scanLiteral("false", .false)
            case UInt8(ascii: "n"):
                try scanLiteral("null", .null)
            default:
                throw invalid("unexpected \(describeByte(at: i)) where a value should start at offset \(i)")
            }
            // A value is complete: carry on in the container that holds it, closing finished ones.
            while open != TapeBuilder.noContainer {
                openCount += 1
                skipWhitespace()
                guard i < n else { throw endOfInput() }
                let closer = openIsObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if byte(i) == UInt8(ascii: ",") {
                    i += 1
                    skipWhitespace()
                    if i < n, byte(i) == closer {
                        throw invalid("trailing comma before '\(Character(Unicode.Scalar(closer)))' at offset \(i)")
                    }
                    if openIsObject { try parseKey() }
                    continue nextValue
                }
                if byte(i) == closer {
                    try closeContainer()
                    continue
                }
                throw invalid(
                    "expected ',' or '\(Character(Unicode.Scalar(closer)))' but found \(describeByte(at: i)) at offset \(i)")
            }
            return
        }
    }

    /// Parses `"name" :` of an object member; the member's value follows.
    @inline(__always)  // with `scanString`: saves two calls per member, the bulk of a report
    mutating func parseKey() throws(JSONError) {
        guard i < n else { throw endOfInput() }
        guard byte(i) == UInt8(ascii: "\"") else {
            throw invalid("expected a member name in double quotes but found \(describeByte(at: i)) at offset \(i)")
        }
        try scanString()
        noteName(nodes[nodeCount &- 1])
        skipWhitespace()
        guard i < n else { throw endOfInput() }
        guard byte(i) == UInt8(ascii: ":") else {
            throw invalid("expected ':' after a member name but found \(describeByte(at: i)) at offset \(i)")
        }
        i += 1
    }

    /// Adds the member name `node` of the open object to `openNameSignatures`.
    @inline(__always)
    mutating func noteName(_ node: JSONNode) {
        let length = Int(node.end - node.start) - 2
        guard !node.hasEscapes, length > 0 else {
            // Escaped names compare unescaped, and the empty name has no bytes to sign: check in full.
            openNameSignatures = TapeBuilder.namesMayRepeat
            return
        }
        let first = Int(byte(Int(node.start) + 1))
        let last = Int(byte(Int(node.end) - 2))
        // These weights give every member name of each object of report v1 and resolution v1
        // its own bit, so that their objects close without the full check.
        let bit: UInt32 = 1 << UInt32((first &+ last &* 6 &+ length &* 7) & 31)
        openNameSignatures = openNameSignatures & bit != 0 ? TapeBuilder.namesMayRepeat : openNameSignatures | bit
    }

    /// Opens the container whose bracket is at `i`.
    mutating func openContainer(isObject: Bool) throws(JSONError) {
        depth += 1
        if depth > maxDepth { throw invalid("nesting deeper than \(maxDepth) at offset \(i)") }
        var parentLink = TapeBuilder.noParentLink
        if open != TapeBuilder.noContainer {
            nodes[open].count = openCount  // parked until this child closes
            nodes[open].end = openNameSignatures
            parentLink = UInt32(open)
        }
        open = nodeCount
        openIsObject = isObject
        openCount = 0
        openNameSignatures = 0
        append(
            JSONNode(
                kind: isObject ? .object : .array, hasEscapes: false,
                start: UInt32(i), end: 0, link: parentLink, count: 0))
        i += 1
    }

    /// Closes the open container whose closing bracket is at `i`.
    mutating func closeContainer() throws(JSONError) {
        let index = open
        nodes[index].count = openCount
        if openIsObject, openNameSignatures == TapeBuilder.namesMayRepeat, let duplicate = duplicateKey(inObject: index) {
            let document = JSONDocument(bytes: bytes, tape: Array(tape))
            throw invalid("duplicate key '\(document.displayText(JSONValue(index: duplicate)))' at \(pathDescription(of: index))")
        }
        let parentLink = nodes[index].link
        nodes[index].end = UInt32(i + 1)
        nodes[index].link = UInt32(nodeCount)
        if parentLink == TapeBuilder.noParentLink {
            open = TapeBuilder.noContainer
        } else {
            open = Int(parentLink)
            openIsObject = nodes[open].kind == .object
            openCount = nodes[open].count
            openNameSignatures = nodes[open].end
        }
        depth -= 1
        i += 1
    }

    // MARK: Scalars

    @inline(__always)
    mutating func appendScalar(_ kind: JSONKind, from start: Int, hasEscapes: Bool = false) {
        let index = nodeCount
        append(
            JSONNode(
                kind: kind, hasEscapes: hasEscapes, start: UInt32(start), end: UInt32(i),
                link: UInt32(index + 1), count: 0))
    }

    /// Scans the string token starting at the quote at `i`, validating escapes and UTF-8.
    @inline(__always)
    mutating func scanString() throws(JSONError) {
        let start = i
        var j = i + 1
        var hasEscapes = false
        while true {
            // Skip plain ASCII eight bytes at a time; stop at the first byte that needs a look.
            // Offsets stay below `n` < 2^32 (checked in `buildDocument`): steps cannot overflow.
            while j &+ 8 <= n {
                let mask = TapeBuilder.bytesNeedingAttention(word(j))
                if mask == 0 {
                    j &+= 8
                } else {
                    j &+= mask.trailingZeroBitCount >> 3
                    break
                }
            }
            guard j < n else { throw invalid("unterminated string starting at offset \(start)") }
            let c = byte(j)
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                hasEscapes = true
                j = try scanEscape(at: j, stringStart: start)
            } else if c >= 0x80 {
                // Non-ASCII text (Chinese, mostly) comes in runs: validate the whole run here.
                repeat {
                    if j &+ 8 <= n, UTF8Validation.startsWithTwoCommonThreeByteSequences(word(j)) {
                        j &+= 6
                        continue
                    }
                    guard let length = UTF8Validation.multiByteSequenceLength(input, count: n, at: j) else {
                        throw invalidUTF8(at: j)
                    }
                    j &+= length
                } while j < n && byte(j) >= 0x80
            } else if c < 0x20 {
                throw invalid("unescaped control character 0x\(hex(c)) in a string at offset \(j)")
            } else {
                j &+= 1
            }
        }
        i = j &+ 1
        appendScalar(.string, from: start, hasEscapes: hasEscapes)
    }

    /// Bits set (at bit 7 of each byte lane) for bytes that are `"`, `\`, below 0x20 or
    /// above 0x7F. Only the lowest set lane is exact, which is all the caller uses.
    @inline(__always)
    static func bytesNeedingAttention(_ word: UInt64) -> UInt64 {
        ByteLanes.needingEscape(in: word) | ByteLanes.nonASCII(in: word)
    }

    /// Validates the escape at `index` (a backslash) and returns the offset just past it.
    func scanEscape(at index: Int, stringStart: Int) throws(JSONError) -> Int {
        guard index + 1 < n else { throw invalid("unterminated string starting at offset \(stringStart)") }
        switch byte(index + 1) {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return index + 2
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: index + 2) else {
                throw invalid("invalid \\u escape at offset \(index): needs four hex digits")
            }
            switch unit {
            case 0xD800...0xDBFF:
                guard index + 7 < n, byte(index + 6) == UInt8(ascii: "\\"), byte(index + 7) == UInt8(ascii: "u"),
                    let low = hex4(at: index + 8), (0xDC00...0xDFFF).contains(low)
                else { throw invalid("lone surrogate in \\u escape at offset \(index)") }
                return index + 12
            case 0xDC00...0xDFFF:
                throw invalid("lone surrogate in \\u escape at offset \(index)")
            default:
                return index + 6
            }
        default:
            throw invalid("invalid escape '\\\(describeByte(at: index + 1))' at offset \(index)")
        }
    }

    func hex4(at index: Int) -> UInt32? {
        guard index + 4 <= n else { return nil }
        var value: UInt32 = 0
        for k in index..<(index + 4) {
            guard let digit = JSONDocument.hexValue(byte(k)) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    /// Scans `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func scanNumber() throws(JSONError) {
        let start = i
        @inline(__always) func isDigit(_ k: Int) -> Bool { k < n && byte(k) >= 0x30 && byte(k) <= 0x39 }
        if byte(i) == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw invalid("expected a digit at offset \(i)") }
        if byte(i) == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw invalid("leading zero in a number at offset \(start)") }
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < n, byte(i) == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { throw invalid("expected a digit after '.' at offset \(i)") }
            while isDigit(i) { i += 1 }
        }
        if i < n, byte(i) | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < n, byte(i) == UInt8(ascii: "+") || byte(i) == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw invalid("expected a digit in the exponent at offset \(i)") }
            while isDigit(i) { i += 1 }
        }
        appendScalar(.number, from: start)
    }

    mutating func scanLiteral(_ literal: StaticString, _ kind: JSONKind) throws(JSONError) {
        let start = i
        let count = literal.utf8CodeUnitCount
        guard i + count <= n,
            JSONDocument.bytesEqual(
                UnsafeRawBufferPointer(start: input + i, count: count), literal)
        else { throw invalid("unexpected \(describeByte(at: i)) where a value should start at offset \(i)") }
        i += count
        appendScalar(kind, from: start)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while i < n {
            switch byte(i) {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): i &+= 1
            default: return
            }
        }
    }

    // MARK: Duplicate keys

    /// Tape index of a member name that repeats an earlier one of the object at `object`, if any.
    /// Objects of up to 32 plain names use a 64-bit mask of cheap name signatures, comparing
    /// names in full only when a signature repeats; larger or escaped ones sort seeded hashes,
    /// so a huge object costs O(n log n) rather than O(n²).
    func duplicateKey(inObject object: Int) -> Int? {
        let memberCount = Int(tape[object].count)
        guard memberCount <= 32 else { return duplicateKeyByHashing(inObject: object) }
        // Runs at the close of every object: walk the tape and the input without bounds checks
        // (every index comes from the tape's own links, every byte range from its tokens).
        let tape = self.tape
        @inline(__always) func nameBytes(_ key: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: input + Int(tape[key].start) + 1, count: Int(tape[key].end - tape[key].start) - 2)
        }
        var seen: UInt64 = 0
        var key = object + 1
        for _ in 0..<memberCount {
            if tape[key].hasEscapes { return duplicateKeyByHashing(inObject: object) }
            let name = nameBytes(key)
            let signature = name.isEmpty ? 0 : (name.count &* 7 &+ Int(name[0]) &+ Int(name[name.count - 1]) &* 3)
            let bit: UInt64 = 1 << UInt64(signature & 63)
            if seen & bit != 0 {
                var earlier = object + 1
                while earlier != key {
                    if JSONDocument.bytesEqual(nameBytes(earlier), name) { return key }
                    earlier = tape[earlier + 1].subtreeEnd
                }
            }
            seen |= bit
            key = tape[key + 1].subtreeEnd
        }
        return nil
    }

    func duplicateKeyByHashing(inObject object: Int) -> Int? {
        var keys: [Int] = []
        keys.reserveCapacity(Int(tape[object].count))
        var key = object + 1
        for _ in 0..<tape[object].count {
            keys.append(key)
            key = tape[key + 1].subtreeEnd
        }
        return JSONDocument.duplicateKeyByHashing(keys, in: UnsafeBufferPointer(tape), bytes: bytes)
    }

    // MARK: Errors

    // Out of line, with the detail built only here: the hot scanners then carry no string
    // building, and their frames stay small.
    @inline(never)
    func invalid(_ detail: @autoclosure () -> String) -> JSONError { JSONError(.invalidJSON, detail()) }

    @inline(never)
    func invalidUTF8(at offset: Int) -> JSONError { JSONError(.invalidUTF8, "invalid UTF-8 at offset \(offset)") }

    @inline(never)
    func endOfInput() -> JSONError { invalid("unexpected end of input at offset \(n)") }

    /// `'x'` for a printable ASCII byte, `byte 0xNN` otherwise: never more of the input than that.
    func describeByte(at index: Int) -> String {
        guard index < n else { return "end of input" }
        let c = byte(index)
        return (0x21...0x7E).contains(c) ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x\(hex(c))"
    }

    /// Where the open container at `index` sits, e.g. `insured` or `attachments[0]`.
    func pathDescription(of index: Int) -> String {
        let document = JSONDocument(bytes: bytes, tape: Array(tape))
        var components: [String] = []
        var current = index
        while tape[current].link != TapeBuilder.noParentLink {
            let parent = Int(tape[current].link)
            if tape[parent].kind == .object {
                // The value of a member directly follows its name on the tape.
                components.append("." + document.displayText(JSONValue(index: current - 1)))
            } else {
                components.append("[\(tape[parent].count)]")
            }
            current = parent
        }
        guard !components.isEmpty else { return "top level" }
        var path = components.reversed().joined()
        if path.hasPrefix(".") { path.removeFirst() }
        return path
    }
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
}
