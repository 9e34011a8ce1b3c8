/// The result of routing one ingest record.
public enum RoutingOutcome: Sendable {
    /// The report is valid and placed: it goes to its owner (and cc / ops copies).
    case routed(RoutedReport)
    /// The record is refused: it goes to the dead-letter topic with this rejection.
    case rejected(Rejection)
}

/// A validated, classified report with its destinations and its weekly cycle.
public struct RoutedReport: Sendable {
    /// The decoded report.
    public let report: Report
    /// The category, with the rule or model evidence that chose it.
    public let classification: Classification
    /// The insured region's pooling region: the owner of the case.
    public let owner: PoolingRegion
    /// Regions that receive a `cc` copy (the treatment region, when the category asks for it and it
    /// differs from the owner).
    public let cc: [String]
    /// The hospital's region code when the category wanted a cc copy but the code resolves to no
    /// pooling region: the copy is skipped and the routed record says so.
    public let unresolvedTreatmentRegion: String?
    /// The weekly intake and return the report falls in, placed by `receivedAt`.
    public let cycle: WeeklyCycle
    /// The ingest record's Kafka timestamp, or the report's `reportedAt` when the record has none.
    public let receivedAt: Timestamp

    /// A masked copy goes to the ops incidents topic.
    public var sendsOpsCopy: Bool { classification.category.copiesOps }

    /// Calls `body` with the report ID's UTF-8 in place (the record key of every routed copy),
    /// without making a `String` of it.
    public func withReportIdUTF8<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        report.text.withUTF8(.reportId) { body($0!) }
    }
}

/// Decode → validate → resolve regions → classify → place in the weekly cycle. Pure and immutable:
/// one engine is shared by every worker thread and replaced as a whole on a rules reload.
public struct RoutingEngine: Sendable {
    /// Decodes and validates the record bytes (report v1).
    public let decoder: ReportDecoder
    /// Resolves insured and treatment region codes to pooling regions.
    public let regions: RegionTable
    /// The working-day calendar that places a report in its weekly cycle.
    public let calendar: WorkCalendar
    /// Assigns the failure category.
    public let classifier: Classifier
    /// Receive times the weekly calendar can place: calendar years 0001–9998 in the schedule's
    /// zone, so that the following intake and its ISO week still have four-digit years. Any
    /// `Int64` can arrive as a Kafka record timestamp, and any such year as a `reportedAt`.
    public let placeableReceiveTimes: Range<Timestamp>

    /// An engine of these parts (tests and benchmarks assemble their own).
    public init(decoder: ReportDecoder, regions: RegionTable, calendar: WorkCalendar, classifier: Classifier) {
        self.decoder = decoder
        self.regions = regions
        self.calendar = calendar
        self.classifier = classifier
        let offset = calendar.schedule.utcOffsetSeconds
        placeableReceiveTimes =
            Timestamp(
                date: CivilDate(year: 1, month: 1, day: 1)!, secondsIntoDay: 0, utcOffsetSeconds: offset)..<Timestamp(
                date: CivilDate(year: 9999, month: 1, day: 1)!, secondsIntoDay: 0, utcOffsetSeconds: offset)
    }

    /// The engine of a loaded configuration folder (limits, regions, calendar, rules).
    public init(configuration: DomainConfiguration) {
        self.init(
            decoder: ReportDecoder(limits: configuration.settings.limits),
            regions: configuration.regions,
            calendar: configuration.calendar,
            classifier: configuration.classifier
        )
    }

    /// Routes one record. `receivedAt` is the ingest record's timestamp (never the worker's clock),
    /// so a replay lands every report in the same weekly batch; nil takes the report's own
    /// `reportedAt`, as the offline CLI does (CONTRACT §7).
    public func route(_ bytes: UnsafeRawBufferPointer, receivedAt: Timestamp?) -> RoutingOutcome {
        var parser = JSONParser()
        return route(bytes, receivedAt: receivedAt, using: &parser)
    }

    /// Routes one record, reusing `parser`'s storage from earlier calls: hot loops keep one
    /// parser per thread, so that routing a record allocates no parse tape.
    public func route(_ bytes: UnsafeRawBufferPointer, receivedAt: Timestamp?, using parser: inout JSONParser) -> RoutingOutcome {
        let report: Report
        switch decoder.decode(bytes, using: &parser) {
        case .success(let decoded): report = decoded
        case .failure(let rejection): return .rejected(rejection)
        }
        guard let owner = report.text.withUTF8(.insuredRegionCode, { regions.resolve(utf8: $0!) }) else {
            return .rejected(Rejection(.unknownRegion, "insured.regionCode: \(report.insuredRegionCode) resolves to no pooling region"))
        }
        // Without a record timestamp the receive time is the report's own `reportedAt`.
        let receiveTime = receivedAt ?? report.reportedAt
        guard placeableReceiveTimes.contains(receiveTime) else {
            let source = receivedAt == nil ? "reportedAt" : "record timestamp"
            let time = receiveTime.rfc3339(utcOffsetSeconds: calendar.schedule.utcOffsetSeconds)
            return .rejected(Rejection(.invalidField, "\(source): \(time) is outside the years 0001–9998 the weekly calendar can place"))
        }
        let classification = classifier.classify(report)
        var cc: [String] = []
        var unresolvedTreatmentRegion: String?
        if classification.category.copiesTreatmentRegion {
            if let treatment = report.text.withUTF8(.hospitalRegionCode, { regions.resolve(utf8: $0!) }) {
                if treatment.code != owner.code { cc.append(treatment.code) }
            } else {
                unresolvedTreatmentRegion = report.hospitalRegionCode
            }
        }
        return .routed(
            RoutedReport(
                report: report,
                classification: classification,
                owner: owner,
                cc: cc,
                unresolvedTreatmentRegion: unresolvedTreatmentRegion,
                cycle: calendar.cycle(receivedAt: receiveTime),
                receivedAt: receiveTime
            ))
    }

    /// Routes one record's bytes (see ``route(_:receivedAt:)`` on a buffer).
    public func route(_ bytes: [UInt8], receivedAt: Timestamp?) -> RoutingOutcome {
        bytes.withUnsafeBytes { route($0, receivedAt: receivedAt) }
    }
}

extension ClassificationInput {
    /// The fields of a report the classifier reads (CONTRACT §4).
    public init(report: Report) {
        self.init(
            failureCode: report.failureCode,
            failureMessage: report.failureMessage,
            failureStage: report.failureStage,
            visitType: report.visitType,
            filingType: report.filingType
        )
    }
}
