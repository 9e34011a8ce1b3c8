/// Which copy of a routed report is being written (CONTRACT §3).
public enum RoutedRole: String, Sendable {
    /// The insured region's agency: the owner of the case.
    case owner
    /// Another agency that must act (the treatment region).
    case cc
    /// The ops incidents queue; the person ID is masked in this copy.
    case ops

    /// `rawValue` as a literal, for the encoder's byte copies.
    var literal: StaticString {
        switch self {
        case .owner: "owner"
        case .cc: "cc"
        case .ops: "ops"
        }
    }
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
    /// Per category, in `Category.allCases` order, the bytes that depend only on the category
    /// (and the rules), written once here so that each record copies them in one piece:
    /// `"category":…,"responsible":"…","owner":"` and `"actions":[…],"intakeBatch":"`.
    private let categoryFields: [[UInt8]]
    private let actionFields: [[UInt8]]
    /// `","rulesVersion":"…"},"report":`
    private let rulesVersionField: [UInt8]

    public init(classifier: Classifier, utcOffsetSeconds: Int) {
        self.utcOffsetSeconds = utcOffsetSeconds
        self.rulesVersion = classifier.rulesVersion
        categoryFields = Category.allCases.map { category in
            var out = Array(#","category":""#.utf8)
            out.append(contentsOf: category.rawValue.utf8)
            out.append(contentsOf: #"","categoryLabel":""#.utf8)
            out.append(contentsOf: category.label.utf8)
            out.append(contentsOf: #"","responsible":""#.utf8)
            out.append(contentsOf: category.responsible.rawValue.utf8)
            out.append(contentsOf: #"","owner":""#.utf8)
            return out
        }
        actionFields = Category.allCases.map { category in
            var out = Array(#""actions":["#.utf8)
            for (index, action) in classifier.actions(for: category).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(action, to: &out)
            }
            out.append(contentsOf: #"],"intakeBatch":""#.utf8)
            return out
        }
        rulesVersionField = Array(#","rulesVersion":""#.utf8) + Array(classifier.rulesVersion.utf8) + Array(#""},"report":"#.utf8)
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
        // Literals are appended as StaticStrings (one copy each) and per-category runs come from
        // the tables built in `init`: this is the per-record hot path of the router and the CLI.
        let categoryIndex = Category.allCases.firstIndex(of: routed.classification.category)!
        out.append(UInt8(ascii: "{"))
        if let leadingFields { JSONWriter.appendLiteral(leadingFields, to: &out) }
        if let lineNumber {
            JSONWriter.appendLiteral(#""line":"#, to: &out)
            appendDigits(&out, lineNumber, width: 1)
            out.append(UInt8(ascii: ","))
        }
        JSONWriter.appendLiteral(#""schema":"baocuo.routed/v1","reportId":"#, to: &out)
        routed.report.text.withUTF8(.reportId) { JSONWriter.appendString(utf8: $0!, to: &out) }
        out.append(contentsOf: categoryFields[categoryIndex])
        Self.appendUTF8(routed.owner.code, to: &out)
        JSONWriter.appendLiteral(#"","role":""#, to: &out)
        JSONWriter.appendLiteral(role.literal, to: &out)
        JSONWriter.appendLiteral(#"","cc":["#, to: &out)
        for (index, region) in routed.cc.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            Self.appendUTF8(region, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        JSONWriter.appendLiteral(#"],"#, to: &out)
        if let unresolved = routed.unresolvedTreatmentRegion {
            JSONWriter.appendLiteral(#""ccSkipped":{"region":"#, to: &out)
            JSONWriter.appendString(unresolved, to: &out)
            JSONWriter.appendLiteral(#","reason":"UNKNOWN_REGION"},"#, to: &out)
        }
        out.append(contentsOf: actionFields[categoryIndex])
        routed.cycle.week.appendDescription(to: &out)
        JSONWriter.appendLiteral(#"","intakeAt":""#, to: &out)
        routed.cycle.intakeAt.appendRFC3339(to: &out, utcOffsetSeconds: utcOffsetSeconds)
        JSONWriter.appendLiteral(#"","dueBy":""#, to: &out)
        routed.cycle.dueBy.appendRFC3339(to: &out, utcOffsetSeconds: utcOffsetSeconds)
        JSONWriter.appendLiteral(#"","receivedAt":""#, to: &out)
        routed.receivedAt.appendRFC3339(to: &out, utcOffsetSeconds: utcOffsetSeconds)
        JSONWriter.appendLiteral(#"","classifier":{"rule":"#, to: &out)
        JSONWriter.appendString(routed.classification.ruleId, to: &out)
        out.append(contentsOf: rulesVersionField)
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

    /// Appends a string's UTF-8 bytes in one copy (the generic `append(contentsOf: s.utf8)`
    /// goes byte by byte).
    @inline(__always)
    private static func appendUTF8(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
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
