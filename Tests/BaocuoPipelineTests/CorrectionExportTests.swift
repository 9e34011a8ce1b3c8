import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Testing

/// Agencies' category corrections (CONTRACT §5's optional `category`) on the embedded cluster:
/// accepted on a valid resolution, refused when unknown, exported as labelled lines.
struct CorrectionExportTests {
    func resolution(_ reportId: String, agency: String, category: String?) -> [UInt8] {
        let corrected = category.map { #","category":"\#($0)""# } ?? ""
        return Array(
            #"{"schema":"baocuo.resolution/v1","reportId":"\#(reportId)","agency":"\#(agency)","outcome":"RESETTLED","resolvedAt":"2026-12-01T10:00:00+08:00"\#(corrected)}"#
                .utf8)
    }

    @Test func correctionsOfOwnersAreExportedAndUnknownCategoriesRefused() async throws {
        let fixture = try WeeklyFixture(prefix: "category-corrections.")
        let names = fixture.names
        try await fixture.route([
            ("C-1", "210700", "2026-11-24T10:00:00+08:00"), ("C-2", "410100", "2026-11-24T10:00:00+08:00"),
            ("C-3", "210700", "2026-11-24T11:00:00+08:00"), ("C-4", "410100", "2026-11-24T11:00:00+08:00"),
        ])
        let recordedAt = "2026-12-01T10:00:00+08:00"
        // The owner corrects its report's category.
        try await fixture.publishResolution(
            resolution("C-1", agency: "210700", category: "FILING_MISMATCH"), key: "C-1",
            recordedAt: recordedAt, topic: names.resolutions(region: "210700"))
        // An unknown category: the whole resolution is refused, precisely.
        try await fixture.publishResolution(
            resolution("C-2", agency: "410100", category: "FILING_GONE"), key: "C-2",
            recordedAt: recordedAt, topic: names.resolutions(region: "410100"))
        // A resolution without a category (older agencies) stays valid and is no correction.
        try await fixture.publishResolution(
            resolution("C-3", agency: "210700", category: nil), key: "C-3",
            recordedAt: recordedAt, topic: names.resolutions(region: "210700"))
        // A non-owner's correction never counts.
        try await fixture.publishResolution(
            resolution("C-4", agency: "210700", category: "CREDENTIAL"), key: "C-4",
            recordedAt: recordedAt, topic: names.resolutions(region: "210700"))

        let scheduler = fixture.scheduler(clock: ManualClock("2026-12-04T16:01:00+08:00"))
        #expect(try await scheduler.tick().deadLettered == 2)
        let deadLetters = try await fixture.readAll { $0 == names.resolutionsDLQ }
        let unknown = try #require(deadLetters.first { $0.keyString == "C-2" })
        #expect(unknown.header(DeadLetterHeader.errorCode) == "INVALID_FIELD")
        #expect(unknown.header(DeadLetterHeader.errorDetail)?.hasPrefix(#"category: unknown value "FILING_GONE""#) == true)
        #expect(deadLetters.first { $0.keyString == "C-4" }?.header(DeadLetterHeader.errorCode) == "FORBIDDEN_AGENCY")
        let returns = try await fixture.consumerView(.return)
        #expect(returns.batches["return-210000-2026-W49"]?.outcome("C-1") == "RESETTLED", "a correction is still a resolution")

        let reader = TopicReader(brokers: fixture.brokers, logger: TestLogging.logger)
        let corrections = try await CorrectionExport.read(
            reader: reader, names: names, sharedTopicUntil: fixture.configuration.settings.resolutions.sharedTopicUntil,
            since: Timestamp.parseRFC3339("2026-11-30T00:00:00+08:00")!)
        #expect(corrections.map(\.example.id) == ["C-1"])
        let correction = try #require(corrections.first)
        #expect(correction.example.category == "FILING_MISMATCH")
        #expect(correction.routedCategory == .filingMissing)
        #expect(correction.example.message == "未查询到该参保人有效的异地就医备案信息")
        #expect(correction.example.stage == "settlement")
        #expect(correction.agency == "210700")
        let later = try await CorrectionExport.read(
            reader: reader, names: names, sharedTopicUntil: fixture.configuration.settings.resolutions.sharedTopicUntil,
            since: Timestamp.parseRFC3339("2026-12-02T00:00:00+08:00")!)
        #expect(later.isEmpty, "--since leaves earlier corrections out")
    }
}
