/// The dotted name of a record field, e.g. `insured.regionCode`, for reject details.
struct FieldPath: Sendable, CustomStringConvertible {
    /// The enclosing known object, nil for top-level fields.
    let object: StaticString?
    let name: StaticString

    init(_ name: StaticString) {
        self.object = nil
        self.name = name
    }

    init(_ object: StaticString, _ name: StaticString) {
        self.object = object
        self.name = name
    }

    var description: String { object.map { "\($0).\(name)" } ?? "\(name)" }
}

/// The fields one record schema reads. Each decoder lists them as an enum so that a single
/// pass over each JSON object finds every field, instead of one search per field.
protocol RecordField: CaseIterable, RawRepresentable where RawValue == Int, AllCases == [Self] {
    var path: FieldPath { get }
    /// The `schema` field, checked before all others.
    static var schema: Self { get }
    /// `FieldTable(Self.self)`, built once.
    static var table: FieldTable { get }
}

/// Where each field of a `RecordField` enum lives (top level, or inside which known object),
/// with a small hash table per object so that each member name costs one comparison.
/// A class, so that a reader holds it with one reference instead of retaining each array.
final class FieldTable: Sendable {
    let paths: [FieldPath]
    /// Per field: the id of its enclosing object field, or nil at top level.
    let parents: [Int?]
    /// Known objects: their field ids, in field order.
    let objects: [Int]
    /// `lookupSize` slots per object set (set 0: top level; set k: `objects[k - 1]`), each
    /// holding the id of the field whose name hashes there, or -1.
    private let lookup: [Int8]
    /// Per field: its name as two zero-padded little-endian words, when it fits in 16 bytes.
    private let shortNames: [ShortName?]

    private static let lookupSize = 64

    struct ShortName {
        let count: Int
        let low: UInt64
        let high: UInt64
        /// The bytes of each word that belong to the name.
        let lowMask: UInt64
        let highMask: UInt64

        init?(_ name: UnsafeRawBufferPointer) {
            guard name.count <= 16 else { return nil }
            var padded = (UInt64(0), UInt64(0))
            withUnsafeMutableBytes(of: &padded) { $0.copyMemory(from: name) }
            count = name.count
            low = UInt64(littleEndian: padded.0)
            high = UInt64(littleEndian: padded.1)
            lowMask = count >= 8 ? ~0 : (1 << UInt64(count * 8)) - 1
            highMask = count >= 16 ? ~0 : count <= 8 ? 0 : (1 << UInt64((count - 8) * 8)) - 1
        }

        /// Whether the `count` bytes at `bytes` spell this name; reads 16 bytes there.
        @inline(__always)
        func matches(_ bytes: UnsafeRawPointer) -> Bool {
            UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self)) & lowMask == low
                && UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) & highMask == high
        }
    }

    init<F: RecordField>(_: F.Type) {
        let paths = F.allCases.map(\.path)
        let topLevel = paths.indices.filter { paths[$0].object == nil }
        let parents = paths.map { path in
            path.object.map { object in
                topLevel.first { JSONDocument.bytesEqual(FieldTable.bytes(of: paths[$0].name), object) }!
            }
        }
        let objects = topLevel.filter { object in parents.contains(object) }
        var lookup = [Int8](repeating: -1, count: (objects.count + 1) * FieldTable.lookupSize)
        for field in paths.indices {
            let set = parents[field].map { objects.firstIndex(of: $0)! + 1 } ?? 0
            let slot = set * FieldTable.lookupSize + FieldTable.slot(FieldTable.bytes(of: paths[field].name))
            precondition(lookup[slot] == -1, "field names of one object collide in the lookup hash; change FieldTable.slot")
            lookup[slot] = Int8(field)
        }
        self.paths = paths
        shortNames = paths.map { ShortName(FieldTable.bytes(of: $0.name)) }
        self.parents = parents
        self.objects = objects
        self.lookup = lookup
    }

    /// The field of object set `set` whose name is `name` (unescaped), if any. `readable`: how
    /// many bytes may be read from the start of `name` (at least its count); with 16, a short
    /// name is compared in two word loads.
    @inline(__always)
    func field(named name: UnsafeRawBufferPointer, readable: Int, inSet set: Int) -> Int? {
        // Runs for every member name: `set` comes from `objects` and the slot is masked to the
        // set's range, so the lookup needs no bounds check, nor the candidate it names.
        let candidate = lookup.withUnsafeBufferPointer { Int($0[set &* FieldTable.lookupSize &+ FieldTable.slot(name)]) }
        guard candidate >= 0 else { return nil }
        if readable >= 16, let short = shortNames.withUnsafeBufferPointer({ $0[candidate] }) {
            return short.count == name.count && short.matches(name.baseAddress!) ? candidate : nil
        }
        return JSONDocument.bytesEqual(name, paths[candidate].name) ? candidate : nil
    }

    /// Hash of a name from its length and its first and last bytes: cheap, and collision-free
    /// for the few names of one object (checked when the table is built).
    @inline(__always)
    private static func slot(_ name: UnsafeRawBufferPointer) -> Int {
        guard let first = name.first, let last = name.last else { return 0 }
        return (name.count &+ Int(first) &+ Int(last)) & (lookupSize - 1)
    }

    static func bytes(of text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }
}

/// Why a field's text is unacceptable: the part of a reject detail after `path: `.
struct FieldProblem: Error {
    let reason: String
}

/// Reads the fields of a parsed record and turns every problem into a precise `Rejection`.
/// Shared by all record decoders so that they apply one set of rules and one wording.
struct FieldReader<Field: RecordField> {
    let document: JSONDocument
    /// Per field id: tape index of the field's value, or -1 when absent.
    private let slots: UnsafeMutableBufferPointer<Int32>

    /// Parses `bytes`, checks what every versioned record shares, and calls `body` with a
    /// reader over the document. The order of checks: size (`TOO_LARGE`, before parsing),
    /// UTF-8, JSON syntax, depth and value count (`TOO_LARGE`; whichever the parser meets
    /// first), a top-level object, then `schema` (absent:
    /// `MISSING_FIELD`; anything but `expectedSchema`: `UNSUPPORTED_SCHEMA`).
    static func read<T>(
        _ bytes: UnsafeRawBufferPointer, limits: DecodeLimits, parser: inout JSONParser,
        expectedSchema: StaticString, _ body: (FieldReader) throws(Rejection) -> T
    ) throws(Rejection) -> T {
        guard bytes.count <= limits.maxRecordBytes else {
            throw Rejection(.tooLarge, "record is \(bytes.count) bytes; the limit is \(limits.maxRecordBytes)")
        }
        let document: JSONDocument
        switch parser.parse(bytes, maxDepth: limits.maxDepth, maxValues: limits.maxValues) {
        case .success(let parsed): document = parsed
        case .failure(let error):
            switch error.kind {
            case .invalidUTF8: throw Rejection(.invalidUTF8, error.detail)
            case .invalidJSON: throw Rejection(.invalidJSON, error.detail)
            case .tooManyValues: throw Rejection(.tooLarge, error.detail)
            }
        }
        guard document.kind(document.root) == .object else {
            throw Rejection(.invalidJSON, "top level must be an object")
        }
        let table = Field.table
        // A few dozen slots: on the stack, so a decode allocates nothing here.
        return try withUnsafeTemporaryAllocation(of: Int32.self, capacity: table.paths.count) {
            (slots) throws(Rejection) -> T in
            let reader = FieldReader(document: document, slots: slots, table: table)
            try reader.checkSchema(expectedSchema)
            return try body(reader)
        }
    }

    private init(document: JSONDocument, slots: UnsafeMutableBufferPointer<Int32>, table: FieldTable) {
        self.document = document
        self.slots = slots
        slots.initialize(repeating: -1)
        collect(in: document.root, set: 0, table: table)
        for (index, object) in table.objects.enumerated() where slots[object] >= 0 {
            collect(in: JSONValue(index: Int(slots[object])), set: index + 1, table: table)
        }
    }

    /// Records the value of every member of `object` (if an object) that is a field of `set`.
    private func collect(in object: JSONValue, set: Int, table: FieldTable) {
        // Runs for every member of every record: walk the tape and the input without bounds
        // checks (the parser built both; every index here comes from the tape's own links).
        document.tape.withUnsafeBufferPointer { tape in
            guard tape[object.index].kind == .object else { return }
            let input = document.bytes.baseAddress!
            let inputCount = document.bytes.count
            var key = object.index + 1
            for _ in 0..<tape[object.index].memberCount {
                let node = tape[key]
                let nameStart = Int(node.start) + 1
                let field =
                    node.hasEscapes
                    ? document.withStringBytes(JSONValue(index: key)) { table.field(named: $0, readable: $0.count, inSet: set) }
                    : table.field(
                        named: UnsafeRawBufferPointer(start: input + nameStart, count: Int(node.end) - 1 - nameStart),
                        readable: inputCount - nameStart, inSet: set)
                if let field { slots[field] = Int32(key &+ 1) }
                key = tape[key &+ 1].subtreeEnd
            }
        }
    }

    private func checkSchema(_ expectedSchema: StaticString) throws(Rejection) {
        guard let schema = value(Field.schema) else { throw Rejection(.missingField, "schema: missing") }
        guard document.stringEquals(schema, expectedSchema) else {
            let found = document.kind(schema) == .string ? "\"\(document.displayText(schema))\"" : "a non-string value"
            throw Rejection(.unsupportedSchema, "schema: \(found) is not supported; expected \"\(expectedSchema)\"")
        }
    }

    /// The field's value as sent (`null` included), or nil when absent or its object is.
    func value(_ field: Field) -> JSONValue? {
        let index = slots[field.rawValue]
        return index < 0 ? nil : JSONValue(index: Int(index))
    }

    /// The field's value unless absent or `null`.
    func nonNullValue(_ field: Field) -> JSONValue? {
        guard let value = value(field), document.kind(value) != .null else { return nil }
        return value
    }

    // MARK: Presence

    /// Throws `MISSING_FIELD` for the first of `fields` that is absent. `null` counts as present
    /// (it is the wrong type, reported later), and so does a field whose enclosing object is
    /// present but not an object (that object is reported later).
    func requirePresence(of fields: [Field]) throws(Rejection) {
        let table = Field.table
        for field in fields where value(field) == nil {
            if let parent = table.parents[field.rawValue] {
                guard let object = value(Field(rawValue: parent)!) else {
                    throw Rejection(.missingField, "\(table.paths[parent]): missing")
                }
                if document.kind(object) != .object { continue }
            }
            throw Rejection(.missingField, "\(field.path): missing")
        }
    }

    // MARK: Containers

    /// An optional known object; nil when absent or null.
    func object(_ field: Field) throws(Rejection) -> JSONValue? {
        try container(field, .object, required: false, wrongType: "must be an object")
    }

    /// A required known object (its absence is reported by `requirePresence`).
    func requiredObject(_ field: Field) throws(Rejection) -> JSONValue {
        guard let object = try container(field, .object, required: true, wrongType: "must be an object") else {
            throw Rejection(.missingField, "\(field.path): missing")
        }
        return object
    }

    /// An optional array, nil when absent or null. Its contents are not inspected.
    func array(_ field: Field) throws(Rejection) -> JSONValue? {
        try container(field, .array, required: false, wrongType: "must be an array")
    }

    private func container(
        _ field: Field, _ kind: JSONKind, required: Bool, wrongType: String
    ) throws(Rejection) -> JSONValue? {
        guard let value = required ? value(field) : nonNullValue(field) else { return nil }
        guard document.kind(value) == kind else { throw Rejection(.invalidField, "\(field.path): \(wrongType)") }
        return value
    }

    // MARK: Strings

    /// An optional string field, handed to `parse` as unescaped UTF-8. Absent or null gives
    /// nil; any other non-string is `INVALID_FIELD` "must be a string"; a `FieldProblem` from
    /// `parse` becomes `INVALID_FIELD` "path: reason".
    @inline(__always)
    func string<T>(_ field: Field, _ parse: (UnsafeRawBufferPointer) -> Result<T, FieldProblem>) throws(Rejection) -> T? {
        guard let value = nonNullValue(field) else { return nil }
        return try string(value, field, parse)
    }

    /// A required string field (its absence is reported by `requirePresence`; `null` is the wrong type).
    @inline(__always)
    func requiredString<T>(
        _ field: Field, _ parse: (UnsafeRawBufferPointer) -> Result<T, FieldProblem>
    ) throws(Rejection) -> T {
        guard let value = value(field) else { throw Rejection(.missingField, "\(field.path): missing") }
        return try string(value, field, parse)
    }

    // Inlined with `parse`, so that its `Result` and closure call fold away at each field.
    @inline(__always)
    private func string<T>(
        _ value: JSONValue, _ field: Field, _ parse: (UnsafeRawBufferPointer) -> Result<T, FieldProblem>
    ) throws(Rejection) -> T {
        guard document.kind(value) == .string else { throw Rejection(.invalidField, "\(field.path): must be a string") }
        switch document.withStringBytes(value, parse) {
        case .success(let parsed): return parsed
        case .failure(let problem): throw Rejection(.invalidField, "\(field.path): \(problem.reason)")
        }
    }

    /// A money field: a JSON string holding a `DecimalAmount`. A JSON number is refused
    /// explicitly, since binary floats must not carry money.
    func amount(_ field: Field) throws(Rejection) -> DecimalAmount? {
        if let value = value(field), document.kind(value) == .number {
            throw Rejection(.invalidField, "\(field.path): must be a decimal string")
        }
        return try string(field, FieldParsers.amount)
    }
}

/// The format rules of text fields (CONTRACT §2, §5): the problem with `utf8`, or nil.
enum FieldChecks {
    static func nonEmpty(_ utf8: UnsafeRawBufferPointer) -> FieldProblem? {
        utf8.isEmpty ? FieldProblem(reason: "must not be empty") : nil
    }

    /// Record ids: 1–64 characters of `A-Z a-z 0-9 . _ : -`.
    static func identifier(_ utf8: UnsafeRawBufferPointer) -> FieldProblem? {
        let problem = FieldProblem(reason: "must be 1–64 characters of A-Z a-z 0-9 . _ : -")
        guard (1...64).contains(utf8.count) else { return problem }
        for k in 0..<utf8.count {
            let c = utf8[k]
            let letter = c | 0x20  // ASCII lower case; maps no other byte into a-z
            guard
                (letter >= UInt8(ascii: "a") && letter <= UInt8(ascii: "z"))
                    || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: ":"))  // digits and ':'
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
            else { return problem }
        }
        return nil
    }

    /// Administrative region codes: exactly 6 ASCII digits.
    static func regionCode(_ utf8: UnsafeRawBufferPointer) -> FieldProblem? {
        guard utf8.count == 6 else { return FieldProblem(reason: "must be 6 digits") }
        for k in 0..<6 where utf8[k] &- UInt8(ascii: "0") > 9 { return FieldProblem(reason: "must be 6 digits") }
        return nil
    }
}

/// Validating parsers for the field formats of CONTRACT §2 and §5, for `FieldReader.string`.
enum FieldParsers {
    static func text(_ utf8: UnsafeRawBufferPointer) -> Result<String, FieldProblem> {
        .success(JSONDocument.makeString(utf8))
    }

    static func identifier(_ utf8: UnsafeRawBufferPointer) -> Result<String, FieldProblem> {
        checkedText(utf8, FieldChecks.identifier)
    }

    static func regionCode(_ utf8: UnsafeRawBufferPointer) -> Result<String, FieldProblem> {
        checkedText(utf8, FieldChecks.regionCode)
    }

    private static func checkedText(
        _ utf8: UnsafeRawBufferPointer, _ check: (UnsafeRawBufferPointer) -> FieldProblem?
    ) -> Result<String, FieldProblem> {
        check(utf8).map { .failure($0) } ?? text(utf8)
    }

    static func timestamp(_ utf8: UnsafeRawBufferPointer) -> Result<Timestamp, FieldProblem> {
        guard let timestamp = Timestamp.parseRFC3339(utf8) else {
            return .failure(
                FieldProblem(
                    reason: "must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T09:15:02+08:00"))
        }
        return .success(timestamp)
    }

    static func date(_ utf8: UnsafeRawBufferPointer) -> Result<CivilDate, FieldProblem> {
        guard let date = CivilDate(isoUTF8: utf8) else {
            return .failure(FieldProblem(reason: "must be a date YYYY-MM-DD"))
        }
        return .success(date)
    }

    static func amount(_ utf8: UnsafeRawBufferPointer) -> Result<DecimalAmount, FieldProblem> {
        guard DecimalAmount.isValid(utf8) else {
            return .failure(FieldProblem(reason: "must be a non-negative decimal with at most 2 fraction digits"))
        }
        return .success(DecimalAmount(validated: JSONDocument.makeString(utf8)))
    }

    /// A value of a closed vocabulary, matched on its wire spelling without creating a string.
    static func enumeration<E: WireVocabulary>(_ utf8: UnsafeRawBufferPointer) -> Result<E, FieldProblem> {
        if let index = E.wireSpellings.index(of: utf8) { return .success(E.allCases[index]) }
        let expected = E.allCases.map(\.rawValue).joined(separator: ", ")
        return .failure(
            FieldProblem(
                reason: "unknown value \"\(JSONDocument.truncatedForDisplay(utf8))\"; expected one of \(expected)"))
    }
}

/// A closed vocabulary of the wire formats, whose `rawValue`s are its spellings.
protocol WireVocabulary: RawRepresentable, CaseIterable where RawValue == String, AllCases == [Self] {
    /// The spellings as bytes, built once: matching a field then makes no strings.
    static var wireSpellings: WireSpellings { get }
}

/// The `rawValue`s of a `WireVocabulary`'s cases (in `allCases` order), back to back in one buffer.
struct WireSpellings: Sendable {
    private let bytes: [UInt8]
    /// End offset in `bytes` of each case's spelling.
    private let ends: [Int]

    init<E: WireVocabulary>(of _: E.Type) {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for value in E.allCases {
            bytes.append(contentsOf: value.rawValue.utf8)
            ends.append(bytes.count)
        }
        self.bytes = bytes
        self.ends = ends
    }

    /// Index in `allCases` of the case spelled `utf8`, or nil.
    @inline(__always)
    func index(of utf8: UnsafeRawBufferPointer) -> Int? {
        bytes.withUnsafeBytes { all in
            ends.withUnsafeBufferPointer { ends in
                var start = 0
                for index in ends.indices {
                    let end = ends[index]
                    // The length test settles most candidates.
                    if end - start == utf8.count,
                        JSONDocument.bytesEqual(UnsafeRawBufferPointer(start: all.baseAddress! + start, count: end - start), utf8)
                    {
                        return index
                    }
                    start = end
                }
                return nil
            }
        }
    }
}

extension InsuranceType: WireVocabulary { static let wireSpellings = WireSpellings(of: Self.self) }
extension FilingType: WireVocabulary { static let wireSpellings = WireSpellings(of: Self.self) }
extension VisitType: WireVocabulary { static let wireSpellings = WireSpellings(of: Self.self) }
extension FailureStage: WireVocabulary { static let wireSpellings = WireSpellings(of: Self.self) }
extension ResolutionOutcome: WireVocabulary { static let wireSpellings = WireSpellings(of: Self.self) }
extension Category: WireVocabulary { static let wireSpellings = WireSpellings(of: Self.self) }
