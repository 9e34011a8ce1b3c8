/// Decodes and validates report v1 records (CONTRACT §2).
///
/// Checks run in a fixed order, so that a record with several problems always gets the same
/// answer: `TOO_LARGE` (before parsing), `INVALID_UTF8`, `INVALID_JSON` (syntax, depth,
/// duplicate keys, a top level that is not an object), `schema` (`MISSING_FIELD` when absent,
/// else `UNSUPPORTED_SCHEMA`), then every required field's presence (`MISSING_FIELD`), then
/// types and formats field by field in contract order (`INVALID_FIELD`).
///
/// Conventions: `null` for an optional field means absent; `null` for a required field is the
/// wrong type (`INVALID_FIELD`). Unknown fields anywhere are accepted and left in the bytes.
public struct ReportDecoder: Sendable {
    public static let schema: StaticString = "baocuo.report/v1"

    public let limits: DecodeLimits

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
            let reader = try FieldReader.open(bytes, limits: limits, parser: &parser, expectedSchema: ReportDecoder.schema)
            return .success(try decodeFields(reader))
        } catch {
            return .failure(error)
        }
    }

    public func decode(_ bytes: [UInt8]) -> Result<Report, Rejection> {
        bytes.withUnsafeBytes { decode($0) }
    }

    /// Required fields in the order their absence is reported.
    private static let requiredFields: [FieldPath] = [
        FieldPath("reportId"), FieldPath("reportedAt"),
        FieldPath("hospital", "code"), FieldPath("hospital", "regionCode"),
        FieldPath("insured", "regionCode"),
        FieldPath("failure"),
    ]

    private func decodeFields(_ reader: FieldReader) throws(Rejection) -> Report {
        try reader.requirePresence(of: ReportDecoder.requiredFields)
        let failureValue = reader.document.member(of: reader.root, named: "failure")
        if let failureValue, reader.document.kind(failureValue) == .object,
           !reader.hasValue(failureValue, "code"), !reader.hasValue(failureValue, "message") {
            throw Rejection(.missingField, "failure: needs a non-empty code or message")
        }

        let root = reader.root
        let reportId = try reader.requiredString(root, FieldPath("reportId"), FieldParsers.identifier)
        let reportedAt = try reader.requiredString(root, FieldPath("reportedAt"), FieldParsers.timestamp)

        let hospital = try reader.requiredObject("hospital")
        let hospitalCode = try reader.requiredString(hospital, FieldPath("hospital", "code"), FieldParsers.nonEmptyText)
        let hospitalName = try reader.string(hospital, FieldPath("hospital", "name"), FieldParsers.text)
        let hospitalRegionCode = try reader.requiredString(
            hospital, FieldPath("hospital", "regionCode"), FieldParsers.regionCode)

        let insured = try reader.requiredObject("insured")
        let insuredRegionCode = try reader.requiredString(
            insured, FieldPath("insured", "regionCode"), FieldParsers.regionCode)
        let personId = try reader.string(insured, FieldPath("insured", "personId")) { utf8 in
            ResidentID.problem(utf8).map { .failure(FieldProblem(reason: $0.description)) }
                ?? FieldParsers.text(utf8)
        }
        let personIdValueRange = personId.flatMap { _ in
            reader.document.member(of: insured, named: "personId").map(reader.document.byteRange)
        }
        let insuranceType: InsuranceType? = try reader.string(
            insured, FieldPath("insured", "insuranceType"), FieldParsers.enumeration)

        let filing = try reader.object("filing")
        let filingType: FilingType? = try reader.string(filing, FieldPath("filing", "type"), FieldParsers.enumeration)
        let filingValidUntil = try reader.string(filing, FieldPath("filing", "validUntil"), FieldParsers.date)

        let visit = try reader.object("visit")
        let visitType: VisitType? = try reader.string(visit, FieldPath("visit", "type"), FieldParsers.enumeration)
        let visitAdmittedAt = try reader.string(visit, FieldPath("visit", "admittedAt"), FieldParsers.timestamp)

        let failure = try reader.requiredObject("failure")
        let failureStage: FailureStage? = try reader.string(
            failure, FieldPath("failure", "stage"), FieldParsers.enumeration)
        let failureCode = try reader.string(failure, FieldPath("failure", "code"), FieldParsers.text)
        let maxMessageCharacters = limits.maxMessageCharacters
        let failureMessage = try reader.string(failure, FieldPath("failure", "message")) { utf8 in
            // Unicode scalars: count the bytes that start a UTF-8 sequence.
            var scalars = 0
            for byte in utf8 where byte & 0xC0 != 0x80 { scalars += 1 }
            return scalars > maxMessageCharacters
                ? .failure(FieldProblem(reason: "longer than \(maxMessageCharacters) characters"))
                : FieldParsers.text(utf8)
        }
        let code = failureCode.flatMap { $0.isEmpty ? nil : $0 }
        let message = failureMessage.flatMap { $0.isEmpty ? nil : $0 }
        guard code != nil || message != nil else {
            throw Rejection(.invalidField, "failure: needs a non-empty code or message")
        }
        let failureOccurredAt = try reader.string(failure, FieldPath("failure", "occurredAt"), FieldParsers.timestamp)

        let amounts = try reader.object("amounts")
        let total = try reader.amount(amounts, FieldPath("amounts", "total"))
        let fundPayable = try reader.amount(amounts, FieldPath("amounts", "fundPayable"))

        _ = try reader.array("attachments")

        return Report(
            reportId: reportId, reportedAt: reportedAt,
            hospitalCode: hospitalCode, hospitalName: hospitalName, hospitalRegionCode: hospitalRegionCode,
            insuredRegionCode: insuredRegionCode, personId: personId, personIdValueRange: personIdValueRange,
            insuranceType: insuranceType,
            filingType: filingType, filingValidUntil: filingValidUntil,
            visitType: visitType, visitAdmittedAt: visitAdmittedAt,
            failureStage: failureStage, failureCode: code, failureMessage: message,
            failureOccurredAt: failureOccurredAt,
            amounts: Report.Amounts(total: total, fundPayable: fundPayable))
    }
}
