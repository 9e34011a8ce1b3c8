/// The typed view of a report v1 record (CONTRACT §2), as decoded and validated by `ReportDecoder`.
///
/// Only the fields the pipeline acts on are typed here; everything else (unknown fields
/// included) stays in the original bytes, which routed records embed unchanged.
/// `personId` is PII: `description`, `debugDescription` and mirrors show it masked.
public struct Report: Sendable, Equatable {
    public var reportId: String
    public var reportedAt: Timestamp
    public var hospitalCode: String
    public var hospitalName: String?
    /// Treatment region as sent: 6 digits, not yet resolved to a pooling region.
    public var hospitalRegionCode: String
    /// Insured region as sent: 6 digits, not yet resolved to a pooling region.
    public var insuredRegionCode: String
    /// A GB 11643-valid resident ID. Never log or print it.
    public var personId: String?
    /// Byte range in the input of the `insured.personId` string token, quotes included, so an
    /// encoder can splice a masked string in its place.
    public var personIdValueRange: Range<Int>?
    public var insuranceType: InsuranceType?
    public var filingType: FilingType?
    public var filingValidUntil: CivilDate?
    public var visitType: VisitType?
    public var visitAdmittedAt: Timestamp?
    public var failureStage: FailureStage?
    /// Nil when absent or empty; at least one of `failureCode` and `failureMessage` is set.
    public var failureCode: String?
    /// Nil when absent or empty; at most `DecodeLimits.maxMessageCharacters` Unicode scalars.
    public var failureMessage: String?
    public var failureOccurredAt: Timestamp?
    public var amounts: Amounts

    /// The optional money fields of a report.
    public struct Amounts: Sendable, Equatable {
        public var total: DecimalAmount?
        public var fundPayable: DecimalAmount?

        public init(total: DecimalAmount? = nil, fundPayable: DecimalAmount? = nil) {
            self.total = total
            self.fundPayable = fundPayable
        }
    }

    public init(
        reportId: String, reportedAt: Timestamp,
        hospitalCode: String, hospitalName: String? = nil, hospitalRegionCode: String,
        insuredRegionCode: String, personId: String? = nil, personIdValueRange: Range<Int>? = nil,
        insuranceType: InsuranceType? = nil,
        filingType: FilingType? = nil, filingValidUntil: CivilDate? = nil,
        visitType: VisitType? = nil, visitAdmittedAt: Timestamp? = nil,
        failureStage: FailureStage? = nil, failureCode: String? = nil, failureMessage: String? = nil,
        failureOccurredAt: Timestamp? = nil,
        amounts: Amounts = Amounts()
    ) {
        self.reportId = reportId
        self.reportedAt = reportedAt
        self.hospitalCode = hospitalCode
        self.hospitalName = hospitalName
        self.hospitalRegionCode = hospitalRegionCode
        self.insuredRegionCode = insuredRegionCode
        self.personId = personId
        self.personIdValueRange = personIdValueRange
        self.insuranceType = insuranceType
        self.filingType = filingType
        self.filingValidUntil = filingValidUntil
        self.visitType = visitType
        self.visitAdmittedAt = visitAdmittedAt
        self.failureStage = failureStage
        self.failureCode = failureCode
        self.failureMessage = failureMessage
        self.failureOccurredAt = failureOccurredAt
        self.amounts = amounts
    }
}

extension Report: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "Report(\(reportId), insured \(insuredRegionCode), hospital \(hospitalCode)@\(hospitalRegionCode), "
            + "failure \(failureCode ?? "-"))"
    }

    public var debugDescription: String { description }

    /// Every field, with the person ID masked: test failures and `dump` must not leak it.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "reportId": reportId,
            "reportedAt": reportedAt,
            "hospitalCode": hospitalCode,
            "hospitalName": hospitalName as Any,
            "hospitalRegionCode": hospitalRegionCode,
            "insuredRegionCode": insuredRegionCode,
            "personId": personId.map(ResidentID.masked) as Any,
            "personIdValueRange": personIdValueRange as Any,
            "insuranceType": insuranceType as Any,
            "filingType": filingType as Any,
            "filingValidUntil": filingValidUntil as Any,
            "visitType": visitType as Any,
            "visitAdmittedAt": visitAdmittedAt as Any,
            "failureStage": failureStage as Any,
            "failureCode": failureCode as Any,
            "failureMessage": failureMessage as Any,
            "failureOccurredAt": failureOccurredAt as Any,
            "amounts": amounts,
        ])
    }
}
