/// The dotted name of a record field, e.g. `insured.regionCode`, for reject details.
struct FieldPath: CustomStringConvertible {
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

/// Why a field's text is unacceptable: the part of a reject detail after `path: `.
struct FieldProblem: Error {
    let reason: String
}

/// Reads the fields of a parsed record and turns every problem into a precise `Rejection`.
/// Shared by all record decoders so that they apply one set of rules and one wording.
struct FieldReader {
    let document: JSONDocument
    let root: JSONValue

    /// Parses `bytes` and checks what every versioned record shares, in this order:
    /// size (`TOO_LARGE`, before parsing), UTF-8, JSON syntax and depth, a top-level object,
    /// then `schema` (absent: `MISSING_FIELD`; anything but `expectedSchema`: `UNSUPPORTED_SCHEMA`).
    /// Returns a reader over the document, which borrows `bytes`.
    static func open(
        _ bytes: UnsafeRawBufferPointer, limits: DecodeLimits, parser: inout JSONParser,
        expectedSchema: StaticString
    ) throws(Rejection) -> FieldReader {
        guard bytes.count <= limits.maxRecordBytes else {
            throw Rejection(.tooLarge, "record is \(bytes.count) bytes; the limit is \(limits.maxRecordBytes)")
        }
        let document: JSONDocument
        switch parser.parse(bytes, maxDepth: limits.maxDepth) {
        case .success(let parsed): document = parsed
        case .failure(let error): throw Rejection(error.kind == .invalidUTF8 ? .invalidUTF8 : .invalidJSON, error.detail)
        }
        guard document.kind(document.root) == .object else {
            throw Rejection(.invalidJSON, "top level must be an object")
        }
        let reader = FieldReader(document: document, root: document.root)
        guard let schema = document.member(of: reader.root, named: "schema") else {
            throw Rejection(.missingField, "schema: missing")
        }
        guard document.stringEquals(schema, expectedSchema) else {
            let found = document.kind(schema) == .string ? "\"\(document.displayText(schema))\"" : "a non-string value"
            throw Rejection(.unsupportedSchema, "schema: \(found) is not supported; expected \"\(expectedSchema)\"")
        }
        return reader
    }

    // MARK: Presence

    /// Throws `MISSING_FIELD` for the first of `paths` that is absent. `null` counts as present
    /// (it is the wrong type, reported later), and so does a field whose enclosing object is
    /// present but not an object (that object is reported later).
    func requirePresence(of paths: [FieldPath]) throws(Rejection) {
        for path in paths {
            var object = root
            if let objectName = path.object {
                guard let enclosing = document.member(of: root, named: objectName) else {
                    throw Rejection(.missingField, "\(objectName): missing")
                }
                guard document.kind(enclosing) == .object else { continue }
                object = enclosing
            }
            if document.member(of: object, named: path.name) == nil {
                throw Rejection(.missingField, "\(path): missing")
            }
        }
    }

    /// Whether `object` (if an object) has member `name` with a value other than `null`.
    func hasValue(_ object: JSONValue?, _ name: StaticString) -> Bool {
        guard let object, let value = document.member(of: object, named: name) else { return false }
        return document.kind(value) != .null
    }

    // MARK: Containers

    /// The optional known object `name` at top level; nil when absent or null.
    func object(_ name: StaticString) throws(Rejection) -> JSONValue? {
        try container(FieldPath(name), .object, required: false, wrongType: "must be an object")
    }

    /// The required known object `name` at top level.
    func requiredObject(_ name: StaticString) throws(Rejection) -> JSONValue {
        guard let object = try container(FieldPath(name), .object, required: true, wrongType: "must be an object")
        else { throw Rejection(.missingField, "\(name): missing") }
        return object
    }

    /// The array `name` at top level; nil when absent or null. Its contents are not inspected.
    func array(_ name: StaticString) throws(Rejection) -> JSONValue? {
        try container(FieldPath(name), .array, required: false, wrongType: "must be an array")
    }

    private func container(
        _ path: FieldPath, _ kind: JSONKind, required: Bool, wrongType: String
    ) throws(Rejection) -> JSONValue? {
        guard let value = try member(root, path, required: required) else { return nil }
        guard document.kind(value) == kind else { throw Rejection(.invalidField, "\(path): \(wrongType)") }
        return value
    }

    // MARK: Strings

    /// The string field at `path` in `object`, handed to `parse` as unescaped UTF-8.
    /// Absent (or, unless `required`, null) gives nil; any other non-string is `INVALID_FIELD`
    /// "must be a string"; a `FieldProblem` from `parse` becomes `INVALID_FIELD` "path: reason".
    func string<T>(
        _ object: JSONValue?, _ path: FieldPath, required: Bool = false,
        _ parse: (UnsafeRawBufferPointer) -> Result<T, FieldProblem>
    ) throws(Rejection) -> T? {
        guard let value = try member(object, path, required: required) else { return nil }
        guard document.kind(value) == .string else { throw Rejection(.invalidField, "\(path): must be a string") }
        switch document.withStringBytes(value, parse) {
        case .success(let parsed): return parsed
        case .failure(let problem): throw Rejection(.invalidField, "\(path): \(problem.reason)")
        }
    }

    /// A required string field that `parse` accepts.
    func requiredString<T>(
        _ object: JSONValue, _ path: FieldPath, _ parse: (UnsafeRawBufferPointer) -> Result<T, FieldProblem>
    ) throws(Rejection) -> T {
        guard let parsed = try string(object, path, required: true, parse) else {
            throw Rejection(.missingField, "\(path): missing")
        }
        return parsed
    }

    /// The member at `path` of `object`: nil when `object` is nil, when the member is absent,
    /// or when it is null and not `required`. Absent and `required` is `MISSING_FIELD`;
    /// null and `required` is returned for the caller's type check to reject.
    private func member(_ object: JSONValue?, _ path: FieldPath, required: Bool) throws(Rejection) -> JSONValue? {
        guard let object, let value = document.member(of: object, named: path.name) else {
            if required { throw Rejection(.missingField, "\(path): missing") }
            return nil
        }
        if !required, document.kind(value) == .null { return nil }
        return value
    }

    /// A money field: a JSON string holding a `DecimalAmount`. A JSON number is refused
    /// explicitly, since binary floats must not carry money.
    func amount(_ object: JSONValue?, _ path: FieldPath) throws(Rejection) -> DecimalAmount? {
        if let object, let value = document.member(of: object, named: path.name), document.kind(value) == .number {
            throw Rejection(.invalidField, "\(path): must be a decimal string")
        }
        return try string(object, path, FieldParsers.amount)
    }
}

/// Validating parsers for the field formats of CONTRACT §2 and §5, for `FieldReader.string`.
enum FieldParsers {
    static func text(_ utf8: UnsafeRawBufferPointer) -> Result<String, FieldProblem> {
        .success(JSONDocument.makeString(utf8))
    }

    static func nonEmptyText(_ utf8: UnsafeRawBufferPointer) -> Result<String, FieldProblem> {
        utf8.isEmpty ? .failure(FieldProblem(reason: "must not be empty")) : text(utf8)
    }

    /// Record ids: 1–64 characters of `A-Z a-z 0-9 . _ : -`.
    static func identifier(_ utf8: UnsafeRawBufferPointer) -> Result<String, FieldProblem> {
        let allowed = (1...64).contains(utf8.count) && utf8.allSatisfy { c in
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"): true
            default: false
            }
        }
        return allowed ? text(utf8) : .failure(FieldProblem(reason: "must be 1–64 characters of A-Z a-z 0-9 . _ : -"))
    }

    /// Administrative region codes: exactly 6 ASCII digits.
    static func regionCode(_ utf8: UnsafeRawBufferPointer) -> Result<String, FieldProblem> {
        utf8.count == 6 && utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            ? text(utf8) : .failure(FieldProblem(reason: "must be 6 digits"))
    }

    static func timestamp(_ utf8: UnsafeRawBufferPointer) -> Result<Timestamp, FieldProblem> {
        guard let timestamp = Timestamp.parseRFC3339(utf8) else {
            return .failure(FieldProblem(
                reason: "must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T09:15:02+08:00"))
        }
        return .success(timestamp)
    }

    static func date(_ utf8: UnsafeRawBufferPointer) -> Result<CivilDate, FieldProblem> {
        guard let date = CivilDate(iso: JSONDocument.makeString(utf8)) else {
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
    static func enumeration<E: RawRepresentable & CaseIterable>(
        _ utf8: UnsafeRawBufferPointer
    ) -> Result<E, FieldProblem> where E.RawValue == String {
        for candidate in E.allCases {
            var spelling = candidate.rawValue
            if spelling.withUTF8({ JSONDocument.bytesEqual(utf8, UnsafeRawBufferPointer($0)) }) {
                return .success(candidate)
            }
        }
        let expected = E.allCases.map(\.rawValue).joined(separator: ", ")
        return .failure(FieldProblem(
            reason: "unknown value \"\(JSONDocument.truncatedForDisplay(utf8))\"; expected one of \(expected)"))
    }
}
