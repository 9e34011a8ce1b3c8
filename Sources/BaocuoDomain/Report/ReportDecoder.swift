/// Decodes and validates report v1 records (CONTRACT §2).
///
/// Checks run in a fixed order, so that a record with several problems always gets the same
/// answer: `TOO_LARGE` (bytes, before parsing), `INVALID_UTF8`, then in document order
/// `INVALID_JSON` (syntax, depth, duplicate keys) or `TOO_LARGE` (more values than
/// `DecodeLimits.maxValues`), `INVALID_JSON` for a top level that is not an object, `schema` (`MISSING_FIELD` when absent,
/// else `UNSUPPORTED_SCHEMA`), then every required field's presence (`MISSING_FIELD`), then
/// types and formats field by field in contract order (`INVALID_FIELD`).
///
/// Conventions: `null` for an optional field means absent; `null` for a required field is the
/// wrong type (`INVALID_FIELD`). Unknown fields anywhere are accepted and left in the bytes.
/// `failure` with neither `code` nor `message` is `MISSING_FIELD`; with both empty, `INVALID_FIELD`.
public struct ReportDecoder: Sendable {
    /// The `schema` value a report record must carry; any other is `UNSUPPORTED_SCHEMA`.
    public static let schema: StaticString = "baocuo.report/v1"

    /// The size and shape limits checked on every record.
    public let limits: DecodeLimits

    /// A decoder enforcing `limits` (record size, depth, message length).
    public init(limits: DecodeLimits = DecodeLimits()) {
        self.limits = limits
    }

    /// Decodes one record. Hot loops should prefer `decode(_:using:)` with a kept parser.
    public func decode(_ bytes: UnsafeRawBufferPointer) -> Result<Report, Rejection> {
        var parser = JSONParser()
        return decode(bytes, using: &parser)
    }

    /// Decodes one record, reusing `parser`'s storage from earlier calls.
    public func decode(_ bytes: UnsafeRawBufferPointer, using parser: inout JSONParser) -> Result<Report, Rejection> {
        do {
            return .success(
                try FieldReader<ReportField>.read(
                    bytes, limits: limits, parser: &parser, expectedSchema: ReportDecoder.schema, decodeFields))
        } catch {
            return .failure(error)
        }
    }

    /// Decodes one record held in an array.
    public func decode(_ bytes: [UInt8]) -> Result<Report, Rejection> {
        bytes.withUnsafeBytes { decode($0) }
    }

    /// Required fields in the order their absence is reported.
    private static let requiredFields: [ReportField] = [
        .reportId, .reportedAt, .hospitalCode, .hospitalRegionCode, .insuredRegionCode, .failure,
    ]

    /// The report fields that `ReportText` packs, with their slots.
    private static let textFields: [(field: ReportField, slot: ReportText.Field)] = [
        (.reportId, .reportId), (.hospitalCode, .hospitalCode), (.hospitalName, .hospitalName),
        (.hospitalRegionCode, .hospitalRegionCode), (.insuredRegionCode, .insuredRegionCode),
        (.personId, .personId), (.failureCode, .failureCode), (.failureMessage, .failureMessage),
    ]

    private func decodeFields(_ reader: FieldReader<ReportField>) throws(Rejection) -> Report {
        try reader.requirePresence(of: ReportDecoder.requiredFields)
        if let failure = reader.value(.failure), reader.document.kind(failure) == .object,
            reader.nonNullValue(.failureCode) == nil, reader.nonNullValue(.failureMessage) == nil
        {
            throw Rejection(.missingField, "failure: needs a non-empty code or message")
        }
        var text = ReportText.Builder(
            capacity: ReportDecoder.textFields.reduce(0) { total, entry in
                guard let value = reader.value(entry.field), reader.document.kind(value) == .string else { return total }
                return total + reader.document.byteRange(value).count
            })

        try reader.packString(.reportId, required: true, into: &text, as: .reportId, FieldChecks.identifier)
        let reportedAt = try reader.requiredString(.reportedAt, FieldParsers.timestamp)

        _ = try reader.requiredObject(.hospital)
        try reader.packString(.hospitalCode, required: true, into: &text, as: .hospitalCode, FieldChecks.nonEmpty)
        try reader.packString(.hospitalName, into: &text, as: .hospitalName) { _ in nil }
        try reader.packString(.hospitalRegionCode, required: true, into: &text, as: .hospitalRegionCode, FieldChecks.regionCode)

        _ = try reader.requiredObject(.insured)
        try reader.packString(.insuredRegionCode, required: true, into: &text, as: .insuredRegionCode, FieldChecks.regionCode)
        let hasPersonId = try reader.packString(.personId, into: &text, as: .personId) { utf8 in
            ResidentID.problem(utf8).map { FieldProblem(reason: $0.description) }
        }
        let personIdValueRange = hasPersonId ? reader.value(.personId).map { reader.document.byteRange($0) } : nil
        let insuranceType: InsuranceType? = try reader.string(.insuranceType, FieldParsers.enumeration)

        _ = try reader.object(.filing)
        let filingType: FilingType? = try reader.string(.filingType, FieldParsers.enumeration)
        let filingValidUntil = try reader.string(.filingValidUntil, FieldParsers.date)

        _ = try reader.object(.visit)
        let visitType: VisitType? = try reader.string(.visitType, FieldParsers.enumeration)
        let visitAdmittedAt = try reader.string(.visitAdmittedAt, FieldParsers.timestamp)

        _ = try reader.requiredObject(.failure)
        let failureStage: FailureStage? = try reader.string(.failureStage, FieldParsers.enumeration)
        // An empty code or message counts as absent.
        let hasCode = try reader.packString(.failureCode, keepsEmpty: false, into: &text, as: .failureCode) { _ in nil }
        let maxMessageCharacters = limits.maxMessageCharacters
        let hasMessage = try reader.packString(.failureMessage, keepsEmpty: false, into: &text, as: .failureMessage) { utf8 in
            // A scalar takes at least one byte, so only a long message needs counting.
            guard utf8.count > maxMessageCharacters else { return nil }
            // Unicode scalars: count the bytes that start a UTF-8 sequence.
            var scalars = 0
            for byte in utf8 where byte & 0xC0 != 0x80 { scalars += 1 }
            return scalars > maxMessageCharacters ? FieldProblem(reason: "longer than \(maxMessageCharacters) characters") : nil
        }
        guard hasCode || hasMessage else {
            throw Rejection(.invalidField, "failure: needs a non-empty code or message")
        }
        let failureOccurredAt = try reader.string(.failureOccurredAt, FieldParsers.timestamp)

        _ = try reader.object(.amounts)
        let total = try reader.amount(.total)
        let fundPayable = try reader.amount(.fundPayable)

        _ = try reader.array(.attachments)

        return Report(
            text: text.build(), reportedAt: reportedAt, personIdValueRange: personIdValueRange,
            insuranceType: insuranceType,
            filingType: filingType, filingValidUntil: filingValidUntil,
            visitType: visitType, visitAdmittedAt: visitAdmittedAt,
            failureStage: failureStage, failureOccurredAt: failureOccurredAt,
            amounts: Report.Amounts(total: total, fundPayable: fundPayable))
    }
}

extension FieldReader where Field == ReportField {
    /// Reads a string field like `string`/`requiredString` (same checks, same reject details,
    /// `check`'s problem becoming `INVALID_FIELD` "path: reason"), and packs its unescaped
    /// UTF-8 into `text` as `slot` without creating a `String`. Returns whether it was packed:
    /// false when absent or `null` (optional fields), or empty when `keepsEmpty` is false.
    @discardableResult
    @inline(__always)
    func packString(
        _ field: Field, required: Bool = false, keepsEmpty: Bool = true,
        into text: inout ReportText.Builder, as slot: ReportText.Field,
        _ check: (UnsafeRawBufferPointer) -> FieldProblem?
    ) throws(Rejection) -> Bool {
        func parse(_ utf8: UnsafeRawBufferPointer) -> Result<Bool, FieldProblem> {
            if let problem = check(utf8) { return .failure(problem) }
            guard keepsEmpty || !utf8.isEmpty else { return .success(false) }
            text.set(slot, utf8)
            return .success(true)
        }
        return required ? try requiredString(field, parse) : try string(field, parse) ?? false
    }
}

/// The fields of report v1 that `ReportDecoder` reads (CONTRACT §2).
enum ReportField: Int, RecordField {
    case schema, reportId, reportedAt
    case hospital, hospitalCode, hospitalName, hospitalRegionCode
    case insured, insuredRegionCode, personId, insuranceType
    case filing, filingType, filingValidUntil
    case visit, visitType, visitAdmittedAt
    case failure, failureStage, failureCode, failureMessage, failureOccurredAt
    case amounts, total, fundPayable
    case attachments

    var path: FieldPath {
        switch self {
        case .schema: FieldPath("schema")
        case .reportId: FieldPath("reportId")
        case .reportedAt: FieldPath("reportedAt")
        case .hospital: FieldPath("hospital")
        case .hospitalCode: FieldPath("hospital", "code")
        case .hospitalName: FieldPath("hospital", "name")
        case .hospitalRegionCode: FieldPath("hospital", "regionCode")
        case .insured: FieldPath("insured")
        case .insuredRegionCode: FieldPath("insured", "regionCode")
        case .personId: FieldPath("insured", "personId")
        case .insuranceType: FieldPath("insured", "insuranceType")
        case .filing: FieldPath("filing")
        case .filingType: FieldPath("filing", "type")
        case .filingValidUntil: FieldPath("filing", "validUntil")
        case .visit: FieldPath("visit")
        case .visitType: FieldPath("visit", "type")
        case .visitAdmittedAt: FieldPath("visit", "admittedAt")
        case .failure: FieldPath("failure")
        case .failureStage: FieldPath("failure", "stage")
        case .failureCode: FieldPath("failure", "code")
        case .failureMessage: FieldPath("failure", "message")
        case .failureOccurredAt: FieldPath("failure", "occurredAt")
        case .amounts: FieldPath("amounts")
        case .total: FieldPath("amounts", "total")
        case .fundPayable: FieldPath("amounts", "fundPayable")
        case .attachments: FieldPath("attachments")
        }
    }

    static let table = FieldTable(ReportField.self)
}
