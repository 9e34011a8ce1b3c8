import BaocuoDomain
import Foundation

/// Agencies' category corrections (the optional `category` of resolution v1, CONTRACT §5) as
/// labelled examples for the classifier's next training run (`baocuo rules corrections`).
///
/// A correction counts only where its resolution does (the resolving agency owns the report:
/// `BatchSources`); of several, the latest recorded stands.
public enum CorrectionExport {
    /// One agency correction: the category the agency says the report has.
    public struct Correction: Sendable {
        /// The report's classifier fields under the agency's category; `id` is the reportId.
        public var example: LabelledExample
        /// The resolving agency (the report's owner).
        public var agency: String
        /// The category Baocuo routed the report with.
        public var routedCategory: Category
        /// When the resolution carrying the correction was recorded.
        public var recordedAt: Timestamp
    }

    /// The corrections recorded at or after `since`, in reportId order.
    public static func read(
        reader: TopicReader, names: TopicNames, sharedTopicUntil: Timestamp,
        since: Timestamp
    ) async throws -> [Correction] {
        let sources = try await WeeklySnapshot.read(reader: reader, names: names, sharedTopicUntil: sharedTopicUntil).sources
        var latest: [String: RecordedResolution] = [:]
        for (reportId, resolutions) in sources.resolutions {
            if let corrected = resolutions.last(where: { $0.resolution.category != nil && $0.recordedAt >= since }) {
                latest[reportId] = corrected
            }
        }
        guard !latest.isEmpty else { return [] }
        var inputs: [String: ClassificationInput] = [:]
        let decoder = JSONDecoder()
        let inboxes = try await reader.topics(matching: names.isInbox)
        try await reader.forEachRecord(in: inboxes) { record in
            guard let copy = try? decoder.decode(RoutedOwnerCopy.self, from: Data(record.value)), copy.role == "owner",
                latest[copy.reportId] != nil, inputs[copy.reportId] == nil
            else { return }
            inputs[copy.reportId] = copy.report.classificationInput
        }
        return latest.keys.sorted().compactMap { reportId in
            guard let recorded = latest[reportId], let input = inputs[reportId], let routed = sources.reports[reportId],
                let category = recorded.resolution.category
            else { return nil }
            return Correction(
                example: LabelledExample(
                    id: reportId, category: category, input: input,
                    arguable: "agency \(recorded.resolution.agency) corrected \(routed.category.rawValue)"),
                agency: recorded.resolution.agency, routedCategory: routed.category, recordedAt: recorded.recordedAt)
        }
    }

    /// The parts of a routed v1 owner copy (CONTRACT §3) a correction needs: the embedded report's
    /// classifier fields.
    private struct RoutedOwnerCopy: Decodable {
        var role: String
        var reportId: String
        var report: EmbeddedReport

        struct EmbeddedReport: Decodable {
            var failure: Failure?
            var visit: Typed?
            var filing: Typed?

            struct Failure: Decodable {
                var code: String?
                var message: String?
                var stage: String?
            }

            struct Typed: Decodable {
                var type: String?
            }

            var classificationInput: ClassificationInput {
                ClassificationInput(
                    failureCode: failure?.code, failureMessage: failure?.message,
                    failureStage: failure?.stage.flatMap(FailureStage.init(rawValue:)),
                    visitType: visit?.type.flatMap(VisitType.init(rawValue:)),
                    filingType: filing?.type.flatMap(FilingType.init(rawValue:)))
            }
        }
    }
}
