/// Why a record was refused: the `baocuo.error.code` of dead-letter records and the offline
/// CLI's `error.code` (CONTRACT §2, §5). Raw values are the wire spellings.
public enum RejectCode: String, Sendable, CaseIterable {
    /// The bytes are not valid UTF-8.
    case invalidUTF8 = "INVALID_UTF8"
    /// Not strict JSON, nested too deep, with duplicate keys, or not an object at the top level.
    case invalidJSON = "INVALID_JSON"
    /// Larger than `DecodeLimits.maxRecordBytes`, or more values than `DecodeLimits.maxValues`.
    case tooLarge = "TOO_LARGE"
    /// `schema` names another schema or version than the decoder reads.
    case unsupportedSchema = "UNSUPPORTED_SCHEMA"
    /// A required field is absent (or `failure` has neither code nor message).
    case missingField = "MISSING_FIELD"
    /// A field has the wrong type or format, or an unknown enum value.
    case invalidField = "INVALID_FIELD"
    /// The insured region resolves to no pooling region (decided by region resolution, not decoding).
    case unknownRegion = "UNKNOWN_REGION"
    /// A resolution from an agency that does not own the report (decided by the batch scheduler).
    case forbiddenAgency = "FORBIDDEN_AGENCY"
}

/// A refused record: the code plus a precise, human-readable detail naming the field path and
/// the reason, e.g. `insured.regionCode: missing`.
///
/// Details never contain a person ID, and echo at most 40 characters of any other input value.
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reject code, written as `baocuo.error.code` / `error.code`.
    public var code: RejectCode
    /// The field path and the reason, e.g. `insured.regionCode: missing`; never contains a person ID.
    public var detail: String

    /// A rejection with `code` and a human-readable `detail`.
    public init(_ code: RejectCode, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// `CODE: detail`, e.g. `MISSING_FIELD: insured.regionCode: missing`.
    public var description: String { "\(code.rawValue): \(detail)" }
}

/// Size and shape limits applied before and while decoding a record (CONTRACT §2).
public struct DecodeLimits: Sendable, Equatable {
    /// Larger records are `TOO_LARGE`, checked before any parsing. Default 1 MiB.
    public var maxRecordBytes: Int
    /// Deeper nesting of objects and arrays is `INVALID_JSON`. Default 32.
    public var maxDepth: Int
    /// Longest `failure.message`, counted in Unicode scalars (cheap on UTF-8 and, unlike
    /// grapheme clusters, independent of the Unicode version). Default 2000.
    public var maxMessageCharacters: Int
    /// More JSON values (scalars, containers and member names) is `TOO_LARGE`: it bounds the
    /// parse of a record that is small in bytes but huge in values (`[0,0,…]`). Default 100,000;
    /// a report has a few dozen.
    public var maxValues: Int

    /// Limits with the contract defaults: 1 MiB records, depth 32, 2000-scalar messages, 100,000 values.
    public init(
        maxRecordBytes: Int = 1_048_576, maxDepth: Int = 32, maxMessageCharacters: Int = 2000,
        maxValues: Int = JSONParser.defaultMaxValues
    ) {
        self.maxRecordBytes = maxRecordBytes
        self.maxDepth = maxDepth
        self.maxMessageCharacters = maxMessageCharacters
        self.maxValues = maxValues
    }
}
