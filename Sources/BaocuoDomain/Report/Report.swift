/// The typed view of a report v1 record (CONTRACT §2), as decoded and validated by `ReportDecoder`.
///
/// Only the fields the pipeline acts on are typed here; everything else (unknown fields
/// included) stays in the original bytes, which routed records embed unchanged.
/// `personId` is PII: `description`, `debugDescription` and mirrors show it masked.
public struct Report: Sendable, Equatable {
    /// The text fields, back to back in one buffer: one allocation per report instead of one
    /// `String` per field, and the hot path (region lookup, classification, encoding) reads
    /// their bytes without creating strings. The `String` properties below copy on access.
    let text: ReportText
    /// `reportId`: the producer's unique ID of the report, also the Kafka record key of routed copies.
    public var reportId: String { text.string(.reportId)! }
    /// `reportedAt`: when the hospital system filed the report.
    public var reportedAt: Timestamp
    /// `hospital.code`: the treating hospital's code as sent (non-empty).
    public var hospitalCode: String { text.string(.hospitalCode)! }
    /// `hospital.name`; nil when absent.
    public var hospitalName: String? { text.string(.hospitalName) }
    /// Treatment region as sent: 6 digits, not yet resolved to a pooling region.
    public var hospitalRegionCode: String { text.string(.hospitalRegionCode)! }
    /// Insured region as sent: 6 digits, not yet resolved to a pooling region.
    public var insuredRegionCode: String { text.string(.insuredRegionCode)! }
    /// A GB 11643-valid resident ID. Never log or print it.
    public var personId: String? { text.string(.personId) }
    /// Byte range in the input of the `insured.personId` string token, quotes included, so an
    /// encoder can splice a masked string in its place.
    public var personIdValueRange: Range<Int>?
    /// `insured.insuranceType`; nil when absent.
    public var insuranceType: InsuranceType?
    /// `filing.type`: how treatment outside the home region was filed; nil when absent.
    public var filingType: FilingType?
    /// `filing.validUntil`: the last day the filing is valid (a date, no zone); nil when absent.
    public var filingValidUntil: CivilDate?
    /// `visit.type`; nil when absent.
    public var visitType: VisitType?
    /// `visit.admittedAt`: when the patient was admitted; nil when absent.
    public var visitAdmittedAt: Timestamp?
    /// `failure.stage`: the settlement step that failed; nil when absent.
    public var failureStage: FailureStage?
    /// Nil when absent or empty; at least one of `failureCode` and `failureMessage` is set.
    public var failureCode: String? { text.string(.failureCode) }
    /// Nil when absent or empty; at most `DecodeLimits.maxMessageCharacters` Unicode scalars.
    public var failureMessage: String? { text.string(.failureMessage) }
    /// `failure.occurredAt`: when the settlement failed; nil when absent.
    public var failureOccurredAt: Timestamp?
    /// `amounts`: the optional money fields (an empty `Amounts` when the object is absent).
    public var amounts: Amounts

    /// The optional money fields of a report.
    public struct Amounts: Sendable, Equatable {
        /// `amounts.total`: the bill total in yuan; nil when absent.
        public var total: DecimalAmount?
        /// `amounts.fundPayable`: the part the fund pays, in yuan; nil when absent.
        public var fundPayable: DecimalAmount?

        /// Amounts with the given fields; nil means absent.
        public init(total: DecimalAmount? = nil, fundPayable: DecimalAmount? = nil) {
            self.total = total
            self.fundPayable = fundPayable
        }
    }

    /// A report from typed fields, as tests and tools build one; nothing is validated here.
    /// `personIdValueRange` only matters to encoders that mask the ID in original bytes.
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
        var text = ReportText.Builder(capacity: 0)
        let fields: [(ReportText.Field, String?)] = [
            (.reportId, reportId), (.hospitalCode, hospitalCode), (.hospitalName, hospitalName),
            (.hospitalRegionCode, hospitalRegionCode), (.insuredRegionCode, insuredRegionCode),
            (.personId, personId), (.failureCode, failureCode), (.failureMessage, failureMessage),
        ]
        for (field, value) in fields {
            guard var value else { continue }
            value.withUTF8 { text.set(field, UnsafeRawBufferPointer($0)) }
        }
        self.init(
            text: text.build(), reportedAt: reportedAt, personIdValueRange: personIdValueRange,
            insuranceType: insuranceType, filingType: filingType, filingValidUntil: filingValidUntil,
            visitType: visitType, visitAdmittedAt: visitAdmittedAt, failureStage: failureStage,
            failureOccurredAt: failureOccurredAt, amounts: amounts)
    }

    /// The decoder's initialiser: the text fields already packed.
    init(
        text: ReportText, reportedAt: Timestamp, personIdValueRange: Range<Int>?,
        insuranceType: InsuranceType?, filingType: FilingType?, filingValidUntil: CivilDate?,
        visitType: VisitType?, visitAdmittedAt: Timestamp?, failureStage: FailureStage?,
        failureOccurredAt: Timestamp?, amounts: Amounts
    ) {
        self.text = text
        self.reportedAt = reportedAt
        self.personIdValueRange = personIdValueRange
        self.insuranceType = insuranceType
        self.filingType = filingType
        self.filingValidUntil = filingValidUntil
        self.visitType = visitType
        self.visitAdmittedAt = visitAdmittedAt
        self.failureStage = failureStage
        self.failureOccurredAt = failureOccurredAt
        self.amounts = amounts
    }
}

/// The UTF-8 of a report's text fields in one buffer, each field a range of it (or absent).
struct ReportText: Sendable, Equatable {
    enum Field: Int, CaseIterable {
        case reportId, hospitalCode, hospitalName, hospitalRegionCode, insuredRegionCode, personId
        case failureCode, failureMessage
    }

    private let bytes: [UInt8]
    /// Per field: start offset in `bytes` (lanes 0–7) and end offset (lanes 8–15); an absent
    /// field has start `absent`.
    private let bounds: SIMD16<UInt32>
    private static let absent = UInt32.max

    /// Calls `body` with the field's UTF-8, or with nil when the field is absent.
    @inline(__always)
    func withUTF8<R>(_ field: Field, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        let start = bounds[field.rawValue]
        guard start != ReportText.absent else { return body(nil) }
        let end = bounds[field.rawValue + 8]
        return bytes.withUnsafeBytes { all in body(UnsafeRawBufferPointer(rebasing: all[Int(start)..<Int(end)])) }
    }

    func string(_ field: Field) -> String? {
        withUTF8(field) { utf8 in utf8.map(JSONDocument.makeString) }
    }

    /// Fields compare by content, whatever order they were packed in.
    static func == (lhs: ReportText, rhs: ReportText) -> Bool {
        Field.allCases.allSatisfy { field in
            lhs.withUTF8(field) { left in
                rhs.withUTF8(field) { right in
                    switch (left, right) {
                    case (nil, nil): true
                    case (let left?, let right?): JSONDocument.bytesEqual(left, right)
                    default: false
                    }
                }
            }
        }
    }

    /// Packs fields one by one, in any order; unset fields are absent.
    struct Builder {
        private var bytes: [UInt8] = []
        private var bounds = SIMD16<UInt32>(repeating: 0)

        /// `capacity`: the total byte count of the fields to come, so that packing allocates once.
        init(capacity: Int) {
            bytes.reserveCapacity(capacity)
            for lane in 0..<8 { bounds[lane] = ReportText.absent }
        }

        mutating func set(_ field: Field, _ utf8: UnsafeRawBufferPointer) {
            bounds[field.rawValue] = UInt32(bytes.count)
            bytes.append(contentsOf: utf8.assumingMemoryBound(to: UInt8.self))  // one copy, not a byte loop
            bounds[field.rawValue + 8] = UInt32(bytes.count)
        }

        func build() -> ReportText { ReportText(bytes: bytes, bounds: bounds) }
    }
}

extension Report: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A one-line summary (report ID, regions, hospital, failure code) that never shows the person ID.
    public var description: String {
        "Report(\(reportId), insured \(insuredRegionCode), hospital \(hospitalCode)@\(hospitalRegionCode), "
            + "failure \(failureCode ?? "-"))"
    }

    /// The same as `description`: the person ID stays hidden in debug output too.
    public var debugDescription: String { description }

    /// Every field, with the person ID masked: test failures and `dump` must not leak it.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
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
