/// How an agency settled a report (CONTRACT §5). Raw values are the wire spellings.
public enum ResolutionOutcome: String, Sendable, CaseIterable {
    /// Settled again through direct settlement.
    case resettled = "RESETTLED"
    /// Reimbursed manually instead of by direct settlement.
    case manualReimbursement = "MANUAL_REIMBURSEMENT"
    /// The missing filing was completed.
    case filingCompleted = "FILING_COMPLETED"
    /// Passed on to another agency.
    case forwarded = "FORWARDED"
    /// Refused by the agency.
    case rejected = "REJECTED"
    /// The agency needs more information before it can act.
    case needMoreInfo = "NEED_MORE_INFO"
}

/// The typed view of a resolution v1 record (CONTRACT §5), as decoded by `ResolutionDecoder`.
/// Whether `agency` may resolve `reportId` is decided later, against the report's owner.
public struct Resolution: Sendable, Equatable {
    /// `reportId`: the report being resolved.
    public var reportId: String
    /// The resolving agency's pooling-region code (6 digits).
    public var agency: String
    /// `outcome`: how the agency settled the report.
    public var outcome: ResolutionOutcome
    /// `note`: the agency's free-text note; nil when absent.
    public var note: String?
    /// `resolvedAt`: when the agency resolved the report.
    public var resolvedAt: Timestamp
    /// The category the agency assigns after reading the report, when Baocuo's was wrong: a
    /// labelled correction for the classifier (`baocuo rules corrections`); routing ignores it.
    public var category: Category?

    /// A resolution from typed fields; ownership of the report is not checked here.
    public init(
        reportId: String, agency: String, outcome: ResolutionOutcome, note: String? = nil, resolvedAt: Timestamp,
        category: Category? = nil
    ) {
        self.reportId = reportId
        self.agency = agency
        self.outcome = outcome
        self.note = note
        self.resolvedAt = resolvedAt
        self.category = category
    }
}

/// Decodes and validates resolution v1 records with the same parser, check order, conventions
/// and reject codes as `ReportDecoder`.
public struct ResolutionDecoder: Sendable {
    /// The `schema` value a resolution record must carry.
    public static let schema: StaticString = "baocuo.resolution/v1"

    /// The size and shape limits checked on every record.
    public let limits: DecodeLimits

    /// A decoder enforcing `limits`.
    public init(limits: DecodeLimits = DecodeLimits()) {
        self.limits = limits
    }

    /// Decodes one resolution record; the report or the reason it is refused.
    public func decode(_ bytes: UnsafeRawBufferPointer) -> Result<Resolution, Rejection> {
        var parser = JSONParser()
        return decode(bytes, using: &parser)
    }

    /// Decodes one record, reusing `parser`'s storage from earlier calls.
    public func decode(_ bytes: UnsafeRawBufferPointer, using parser: inout JSONParser) -> Result<Resolution, Rejection> {
        do {
            return .success(
                try FieldReader<ResolutionField>.read(
                    bytes, limits: limits, parser: &parser, expectedSchema: ResolutionDecoder.schema, decodeFields))
        } catch {
            return .failure(error)
        }
    }

    /// Decodes one record held in an array.
    public func decode(_ bytes: [UInt8]) -> Result<Resolution, Rejection> {
        bytes.withUnsafeBytes { decode($0) }
    }

    private func decodeFields(_ reader: FieldReader<ResolutionField>) throws(Rejection) -> Resolution {
        try reader.requirePresence(of: [.reportId, .agency, .outcome, .resolvedAt])
        return Resolution(
            reportId: try reader.requiredString(.reportId, FieldParsers.identifier),
            agency: try reader.requiredString(.agency, FieldParsers.regionCode),
            outcome: try reader.requiredString(.outcome, FieldParsers.enumeration),
            note: try reader.string(.note, FieldParsers.text),
            resolvedAt: try reader.requiredString(.resolvedAt, FieldParsers.timestamp),
            category: try reader.string(.category, FieldParsers.enumeration))
    }
}

/// The fields of resolution v1 that `ResolutionDecoder` reads (CONTRACT §5).
enum ResolutionField: Int, RecordField {
    case schema, reportId, agency, outcome, note, resolvedAt, category

    var path: FieldPath {
        switch self {
        case .schema: FieldPath("schema")
        case .reportId: FieldPath("reportId")
        case .agency: FieldPath("agency")
        case .outcome: FieldPath("outcome")
        case .note: FieldPath("note")
        case .resolvedAt: FieldPath("resolvedAt")
        case .category: FieldPath("category")
        }
    }

    static let table = FieldTable(ResolutionField.self)
}
