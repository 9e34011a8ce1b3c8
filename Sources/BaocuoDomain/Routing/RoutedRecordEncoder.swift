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
/// original value in place, and masks any other literal copy of the ID in the report. Writing
/// appends to a caller-owned buffer so the hot path reuses one allocation per worker.
public struct RoutedRecordEncoder: Sendable {
    /// The service zone's offset east of UTC, in seconds: `receivedAt`, `intakeAt` and `dueBy` are written in it.
    public let utcOffsetSeconds: Int
    /// The classification rules' version, written as `classification.rulesVersion` in every record.
    public let rulesVersion: String
    /// Per category, in `Category.allCases` order, the bytes that depend only on the category
    /// (and the rules), written once here so that each record copies them in one piece:
    /// `"category":…,"responsible":"…","owner":"` and `"actions":[…],"intakeBatch":"`.
    private let categoryFields: [[UInt8]]
    private let actionFields: [[UInt8]]
    /// `","rulesVersion":"…"},"report":`
    private let rulesVersionField: [UInt8]
    /// The calendar whose precomputed cycles are written from `precomputedCycleFields`: for each
    /// the run `2026-W13","intakeAt":"…","dueBy":"…` that `writeCycleFields` writes, so that a
    /// record of a covered week copies it instead of formatting the week and two timestamps.
    private let calendar: WorkCalendar?
    private let precomputedCycleFields: [[UInt8]]

    /// An encoder for `configuration`'s rules, time zone and calendar.
    public init(configuration: DomainConfiguration) {
        self.init(
            classifier: configuration.classifier,
            utcOffsetSeconds: configuration.settings.schedule.utcOffsetSeconds,
            calendar: configuration.calendar)
    }

    /// The precomputed cycles of `calendar` are written from text built here; any other cycle
    /// (and every cycle without a calendar) is formatted per record, to the same bytes.
    public init(classifier: Classifier, utcOffsetSeconds: Int, calendar: WorkCalendar? = nil) {
        self.utcOffsetSeconds = utcOffsetSeconds
        self.calendar = calendar
        precomputedCycleFields = (calendar?.precomputedCycles ?? []).map { cycle in
            var out: [UInt8] = []
            ByteWriter.append(to: &out, bound: Self.cycleFieldsBound) {
                Self.writeCycleFields(cycle, to: &$0, utcOffsetSeconds: utcOffsetSeconds)
            }
            return out
        }
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
        // The per-record hot path of the router and the CLI: the record is written in one
        // reservation (`ByteWriter`), literals as single copies, and the runs that depend only on
        // the category come from the tables built in `init`.
        let categoryIndex = Category.allCases.firstIndex(of: routed.classification.category)!
        let report = routed.report
        let trimmed = Self.trimmedRange(originalReport)
        var maskedPersonId: String?
        if role == .ops, report.personIdValueRange != nil, let personId = report.personId {
            maskedPersonId = ResidentID.masked(personId)
        }
        var ruleId = routed.classification.ruleId
        ruleId.withUTF8 { ruleId in
            report.text.withUTF8(.reportId) { reportId in
                let reportId = reportId!
                var bound =
                    Self.literalsBound + (leadingFields?.utf8CodeUnitCount ?? 0) + ByteWriter.maxDigitsLength
                    + ByteWriter.quotedLength(reportId) + ByteWriter.quotedLength(UnsafeRawBufferPointer(ruleId))
                    + categoryFields[categoryIndex].count + actionFields[categoryIndex].count + rulesVersionField.count
                    + routed.owner.code.utf8.count + IsoWeek.maxDescriptionLength + 3 * Timestamp.maxRFC3339Length
                    + trimmed.count
                for region in routed.cc { bound += region.utf8.count + 3 }
                if var unresolved = routed.unresolvedTreatmentRegion {
                    bound += unresolved.withUTF8 { ByteWriter.quotedLength(UnsafeRawBufferPointer($0)) }
                }
                if var masked = maskedPersonId {
                    bound += masked.withUTF8 { ByteWriter.quotedLength(UnsafeRawBufferPointer($0)) }
                }
                ByteWriter.append(to: &out, bound: bound) { writer in
                    writer.write(UInt8(ascii: "{"))
                    if let leadingFields { writer.write(leadingFields) }
                    if let lineNumber {
                        writer.write(#""line":"# as StaticString)
                        writer.writeDigits(lineNumber, width: 1)
                        writer.write(UInt8(ascii: ","))
                    }
                    writer.write(#""schema":"baocuo.routed/v1","reportId":"# as StaticString)
                    writer.writeQuoted(reportId)
                    writer.write(categoryFields[categoryIndex])
                    writer.write(routed.owner.code)
                    writer.write(#"","role":""# as StaticString)
                    writer.write(role.literal)
                    writer.write(#"","cc":["# as StaticString)
                    for (index, region) in routed.cc.enumerated() {
                        if index > 0 { writer.write(UInt8(ascii: ",")) }
                        writer.write(UInt8(ascii: "\""))
                        writer.write(region)
                        writer.write(UInt8(ascii: "\""))
                    }
                    writer.write(#"],"# as StaticString)
                    if var unresolved = routed.unresolvedTreatmentRegion {
                        writer.write(#""ccSkipped":{"region":"# as StaticString)
                        unresolved.withUTF8 { writer.writeQuoted(UnsafeRawBufferPointer($0)) }
                        writer.write(#","reason":"UNKNOWN_REGION"},"# as StaticString)
                    }
                    writer.write(actionFields[categoryIndex])
                    if let precomputed = calendar?.precomputedIndex(of: routed.cycle) {
                        writer.write(precomputedCycleFields[precomputed])
                    } else {
                        Self.writeCycleFields(routed.cycle, to: &writer, utcOffsetSeconds: utcOffsetSeconds)
                    }
                    writer.write(#"","receivedAt":""# as StaticString)
                    routed.receivedAt.writeRFC3339(to: &writer, utcOffsetSeconds: utcOffsetSeconds)
                    writer.write(#"","classifier":{"rule":"# as StaticString)
                    writer.writeQuoted(UnsafeRawBufferPointer(ruleId))
                    writer.write(rulesVersionField)
                    // The input report, unchanged, except for the ops copy's masked person ID.
                    if var masked = maskedPersonId, let range = report.personIdValueRange {
                        let reportStart = writer.count
                        writer.write(UnsafeRawBufferPointer(rebasing: originalReport[trimmed.lowerBound..<range.lowerBound]))
                        masked.withUTF8 { writer.writeQuoted(UnsafeRawBufferPointer($0)) }
                        writer.write(UnsafeRawBufferPointer(rebasing: originalReport[range.upperBound..<trimmed.upperBound]))
                        // The ID may be repeated elsewhere in the report (an unknown field, the
                        // failure message): no copy of it leaves in the ops copy either.
                        report.text.withUTF8(.personId) { personId in
                            masked.withUTF8 { masked in
                                Self.maskCopies(
                                    of: personId!, as: UnsafeRawBufferPointer(masked),
                                    in: &writer, writtenSince: reportStart)
                            }
                        }
                    } else {
                        writer.write(UnsafeRawBufferPointer(rebasing: originalReport[trimmed]))
                    }
                    writer.write(UInt8(ascii: "}"))
                }
            }
        }
    }

    /// `2026-W13","intakeAt":"…","dueBy":"…`: the week (the `intakeBatch`) and the two instants.
    private static func writeCycleFields(_ cycle: WeeklyCycle, to writer: inout ByteWriter, utcOffsetSeconds: Int) {
        cycle.week.writeDescription(to: &writer)
        writer.write(#"","intakeAt":""# as StaticString)
        cycle.intakeAt.writeRFC3339(to: &writer, utcOffsetSeconds: utcOffsetSeconds)
        writer.write(#"","dueBy":""# as StaticString)
        cycle.dueBy.writeRFC3339(to: &writer, utcOffsetSeconds: utcOffsetSeconds)
    }

    /// The week, two timestamps and the 25 bytes of the two literals between them, rounded up.
    private static let cycleFieldsBound = IsoWeek.maxDescriptionLength + 2 * Timestamp.maxRFC3339Length + 32

    /// Masks every literal copy of `personId` in the report (valid JSON) written since
    /// `reportStart`: as `masked` inside strings, and with `0` for its `*` inside numbers, where a
    /// `*` would break the JSON. An ID is digits (and a final `X`), so a copy lies within one token.
    private static func maskCopies(
        of personId: UnsafeRawBufferPointer, as masked: UnsafeRawBufferPointer,
        in writer: inout ByteWriter, writtenSince reportStart: Int
    ) {
        precondition(masked.count == personId.count, "a masked person ID of another length")
        var scanned = 0
        var inString = false
        writer.forEachOccurrence(of: personId, writtenSince: reportStart) { match, report in
            // In a string when an odd number of unescaped quotes precede the copy. An escape's
            // second byte is never a digit, so skipping it cannot step over a copy's start.
            while scanned < match {
                let byte = report[scanned]
                if inString, byte == UInt8(ascii: "\\") {
                    scanned += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString.toggle() }
                scanned += 1
            }
            for k in 0..<masked.count {
                report[match + k] = inString || masked[k] != UInt8(ascii: "*") ? masked[k] : UInt8(ascii: "0")
            }
        }
    }

    /// Bytes of all the literals `append` writes, rounded up generously (they total ~330).
    private static let literalsBound = 512

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
