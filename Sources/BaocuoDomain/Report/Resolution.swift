/// How an agency settled a report (CONTRACT §5). Raw values are the wire spellings.
public enum ResolutionOutcome: String, Sendable, CaseIterable {
    case resettled = "RESETTLED"
    case manualReimbursement = "MANUAL_REIMBURSEMENT"
    case filingCompleted = "FILING_COMPLETED"
    case forwarded = "FORWARDED"
    case rejected = "REJECTED"
    case needMoreInfo = "NEED_MORE_INFO"
}

/// The typed view of a resolution v1 record (CONTRACT §5), as decoded by `ResolutionDecoder`.
/// Whether `agency` may resolve `reportId` is decided later, against the report's owner.
public struct Resolution: Sendable, Equatable {
    public var reportId: String
    /// The resolving agency's pooling-region code (6 digits).
    public var agency: String
    public var outcome: ResolutionOutcome
    public var note: String?
    public var resolvedAt: Timestamp

    public init(reportId: String, agency: String, outcome: ResolutionOutcome, note: String? = nil, resolvedAt: Timestamp) {
        self.reportId = reportId
        self.agency = agency
        self.outcome = outcome
        self.note = note
        self.resolvedAt = resolvedAt
    }
}

/// Decodes and validates resolution v1 records with the same parser, check order, conventions
/// and reject codes as `ReportDecoder`.
public struct ResolutionDecoder: Sendable {
    public static let schema: StaticString = "baocuo.resolution/v1"

    public let limits: DecodeLimits

    public init(limits: DecodeLimits = DecodeLimits()) {
        self.limits = limits
    }

    public func decode(_ bytes: UnsafeRawBufferPointer) -> Result<Resolution, Rejection> {
        var parser = JSONParser()
        return decode(bytes, using: &parser)
    }

    /// Decodes one record, reusing `parser`'s storage from earlier calls.
    public func decode(_ bytes: UnsafeRawBufferPointer, using parser: inout JSONParser) -> Result<Resolution, Rejection> {
        do {
            let reader = try FieldReader.open(
                bytes, limits: limits, parser: &parser, expectedSchema: ResolutionDecoder.schema)
            return .success(try decodeFields(reader))
        } catch {
            return .failure(error)
        }
    }

    public func decode(_ bytes: [UInt8]) -> Result<Resolution, Rejection> {
        bytes.withUnsafeBytes { decode($0) }
    }

    private static let requiredFields: [FieldPath] = [
        FieldPath("reportId"), FieldPath("agency"), FieldPath("outcome"), FieldPath("resolvedAt"),
    ]

    private func decodeFields(_ reader: FieldReader) throws(Rejection) -> Resolution {
        try reader.requirePresence(of: ResolutionDecoder.requiredFields)
        let root = reader.root
        return Resolution(
            reportId: try reader.requiredString(root, FieldPath("reportId"), FieldParsers.identifier),
            agency: try reader.requiredString(root, FieldPath("agency"), FieldParsers.regionCode),
            outcome: try reader.requiredString(root, FieldPath("outcome"), FieldParsers.enumeration),
            note: try reader.string(root, FieldPath("note"), FieldParsers.text),
            resolvedAt: try reader.requiredString(root, FieldPath("resolvedAt"), FieldParsers.timestamp))
    }
}
