/// Which copy of a routed report is being written (CONTRACT §3).
public enum RoutedRole: String, Sendable {
    /// The insured region's agency: the owner of the case.
    case owner
    /// Another agency that must act (the treatment region).
    case cc
    /// The ops incidents queue; the person ID is masked in this copy.
    case ops
}

/// Writes routed v1 records as UTF-8 JSON bytes.
///
/// The input report is embedded as its original bytes ("the input report, unchanged"), so unknown
/// fields survive and nothing is re-serialised; the ops copy splices a masked person ID over the
/// original value in place. Writing appends to a caller-owned buffer so the hot path reuses one
/// allocation per worker.
public struct RoutedRecordEncoder: Sendable {
    public let utcOffsetSeconds: Int
    public let rulesVersion: String
    private let actionsJSON: [Category: [UInt8]]

    public init(classifier: Classifier, utcOffsetSeconds: Int) {
        self.utcOffsetSeconds = utcOffsetSeconds
        self.rulesVersion = classifier.rulesVersion
        var actionsJSON: [Category: [UInt8]] = [:]
        for category in Category.allCases {
            var out: [UInt8] = [UInt8(ascii: "[")]
            for (index, action) in classifier.actions(for: category).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(action, to: &out)
            }
            out.append(UInt8(ascii: "]"))
            actionsJSON[category] = out
        }
        self.actionsJSON = actionsJSON
    }

    /// Appends one routed v1 record. `leadingFields` is written first inside the object
    /// (e.g. `"status":"routed","line":3,` for the offline CLI); it must end with a comma.
    public func append(
        _ routed: RoutedReport,
        role: RoutedRole,
        originalReport: UnsafeRawBufferPointer,
        leadingFields: StaticString? = nil,
        lineNumber: Int? = nil,
        to out: inout [UInt8]
    ) {
        let category = routed.classification.category
        out.append(UInt8(ascii: "{"))
        if let leadingFields {
            leadingFields.withUTF8Buffer { out.append(contentsOf: $0) }
        }
        if let lineNumber {
            out.append(contentsOf: #""line":"#.utf8)
            out.append(contentsOf: String(lineNumber).utf8)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""schema":"baocuo.routed/v1","reportId":"#.utf8)
        JSONWriter.appendString(routed.report.reportId, to: &out)
        out.append(contentsOf: #","category":""#.utf8)
        out.append(contentsOf: category.rawValue.utf8)
        out.append(contentsOf: #"","categoryLabel":""#.utf8)
        out.append(contentsOf: category.label.utf8)
        out.append(contentsOf: #"","responsible":""#.utf8)
        out.append(contentsOf: category.responsible.rawValue.utf8)
        out.append(contentsOf: #"","owner":""#.utf8)
        out.append(contentsOf: routed.owner.code.utf8)
        out.append(contentsOf: #"","role":""#.utf8)
        out.append(contentsOf: role.rawValue.utf8)
        out.append(contentsOf: #"","cc":["#.utf8)
        for (index, region) in routed.cc.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: region.utf8)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #"],"#.utf8)
        if let unresolved = routed.unresolvedTreatmentRegion {
            out.append(contentsOf: #""ccSkipped":{"region":"#.utf8)
            JSONWriter.appendString(unresolved, to: &out)
            out.append(contentsOf: #","reason":"UNKNOWN_REGION"},"#.utf8)
        }
        out.append(contentsOf: #""actions":"#.utf8)
        out.append(contentsOf: actionsJSON[category] ?? [UInt8(ascii: "["), UInt8(ascii: "]")])
        out.append(contentsOf: #","intakeBatch":""#.utf8)
        out.append(contentsOf: routed.cycle.week.description.utf8)
        out.append(contentsOf: #"","intakeAt":""#.utf8)
        routed.cycle.intakeAt.appendRFC3339(to: &out, utcOffsetSeconds: utcOffsetSeconds)
        out.append(contentsOf: #"","dueBy":""#.utf8)
        routed.cycle.dueBy.appendRFC3339(to: &out, utcOffsetSeconds: utcOffsetSeconds)
        out.append(contentsOf: #"","receivedAt":""#.utf8)
        routed.receivedAt.appendRFC3339(to: &out, utcOffsetSeconds: utcOffsetSeconds)
        out.append(contentsOf: #"","classifier":{"rule":"#.utf8)
        JSONWriter.appendString(routed.classification.ruleId, to: &out)
        out.append(contentsOf: #","rulesVersion":""#.utf8)
        out.append(contentsOf: rulesVersion.utf8)
        out.append(contentsOf: #""},"report":"#.utf8)
        appendReport(routed.report, original: originalReport, maskPersonId: role == .ops, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    private func appendReport(_ report: Report, original: UnsafeRawBufferPointer, maskPersonId: Bool, to out: inout [UInt8]) {
        let trimmed = Self.trimmedRange(original)
        guard maskPersonId, let range = report.personIdValueRange, let personId = report.personId else {
            out.append(contentsOf: original[trimmed])
            return
        }
        out.append(contentsOf: original[trimmed.lowerBound..<range.lowerBound])
        JSONWriter.appendString(ResidentID.masked(personId), to: &out)
        out.append(contentsOf: original[range.upperBound..<trimmed.upperBound])
    }

    /// The record without surrounding JSON whitespace (a CLI line may end in `\r`).
    static func trimmedRange(_ bytes: UnsafeRawBufferPointer) -> Range<Int> {
        var lower = 0
        var upper = bytes.count
        while lower < upper, isJSONWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower, isJSONWhitespace(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
