import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The weekly scheduler inside `baocuo run` processes, on the real clock.
@Suite(.serialized)
struct WeeklyProcessTests {
    let configuration = TestConfiguration.shared
    var names: TopicNames { TopicNames(prefix: configuration.settings.topicPrefix) }

    /// `startWeek`: the reports go back 16 days, so the go-live is set to their first week (a first
    /// start emits no history by default).
    func startWorker(brokers: String, name: String, startWeek: IsoWeek) throws -> ChildProcess {
        try ChildProcess(
            [
                "run", "--brokers", brokers, "--group", "weekly-process", "--http-port", "0",
                "--scheduler-tick-seconds", "1", "--look-back-weeks", "2", "--start-week", "\(startWeek)",
            ],
            environment: FleetProcessTests.workerEnvironment, name: name)
    }

    @Test func sigtermDuringABatchEmissionStillYieldsOneCompleteBatchEach() async throws {
        let cluster = try ChildProcess(["dev-cluster", "--brokers", "1", "--input-partitions", "4"], name: "weekly-cluster")
        defer { cluster.signal(SIGTERM) }
        let brokers = try #require(cluster.firstLine(), "dev-cluster printed no bootstrap list: \(cluster.log)")
        // Reports received over the last 16 days, so the look-back window holds due batches.
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let lines = SampleReports.generate(count: 600)
        let span: Int64 = 16 * 86_400_000
        try await SampleReports.load(
            lines, topic: names.failures, brokers: brokers,
            baseMs: now - span, stepMs: span / Int64(lines.count))

        let startWeek = IsoWeek(
            containing: Timestamp(millisecondsSinceEpoch: now - span)
                .civilDate(utcOffsetSeconds: configuration.settings.schedule.utcOffsetSeconds))
        let first = try startWorker(brokers: brokers, name: "weekly-a", startWeek: startWeek)
        await first.waitForLog("emitting weekly batches", timeout: .seconds(60))
        #expect(first.log.contains("emitting weekly batches"), "the scheduler never started an emission: \(first.log.suffix(2000))")
        first.signal(SIGTERM)
        let status = await first.waitForExit(timeout: .seconds(10))
        #expect(status == 0, "SIGTERM during an emission: clean exit within 10 s (status \(String(describing: status)))")

        let second = try startWorker(brokers: brokers, name: "weekly-b", startWeek: startWeek)
        defer { second.signal(SIGTERM) }
        let operations = WeeklyOperations(configuration: configuration, brokers: brokers, logger: TestLogging.logger)
        let weeks = Set(
            lines.indices.map { index in
                configuration.calendar.cycle(
                    receivedAt: Timestamp(millisecondsSinceEpoch: now - span + Int64(index) * (span / Int64(lines.count)))
                ).week
            }
        ).filter { week in (operations.calendarCycle(week)?.intakeAt).map { $0.millisecondsSinceEpoch < now } ?? false }
        try #require(!weeks.isEmpty)

        // The second worker completes every due batch of those weeks: all emitted with current content.
        let deadline = ContinuousClock.now + .seconds(120)
        var incomplete: [String] = []
        repeat {
            try await Task.sleep(for: .seconds(1))
            let snapshot = try await operations.snapshot()
            let clockNow = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
            incomplete = try weeks.flatMap { week in
                let status = try operations.status(week: week, snapshot: snapshot, now: clockNow)
                return status.intake.missing + status.intake.outdated
            }
        } while !incomplete.isEmpty && ContinuousClock.now < deadline
        #expect(incomplete.isEmpty, "batches never completed: \(incomplete.prefix(5))")

        // On the topics: per batch id and revision, every copy of an item is the same bytes and the
        // manifest counts exactly the distinct items.
        let reader = TopicReader(brokers: brokers, logger: TestLogging.logger)
        let records = try await reader.readAll(reader.topics { $0.hasSuffix(".intake") })
        var items: [String: [String: [UInt8]]] = [:]
        var manifests: [String: Int] = [:]
        for record in records {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any])
            let batch = "\(object["batchId"] as? String ?? "?")#\(object["revision"] as? Int ?? 0)"
            if object["schema"] as? String == BatchRecordEncoder.intakeManifestSchema {
                manifests[batch] = object["itemCount"] as? Int
            } else {
                let reportId = object["reportId"] as? String ?? "?"
                if let earlier = items[batch, default: [:]][reportId] {
                    #expect(earlier == record.value, "a re-emitted item differs: \(batch) \(reportId)")
                }
                items[batch, default: [:]][reportId] = record.value
            }
        }
        for (batch, count) in manifests {
            #expect((items[batch]?.count ?? 0) == count, "\(batch): manifest says \(count) items")
        }
        #expect(manifests.count >= 401, "every agency got at least one manifest")
    }
}

extension WeeklyOperations {
    /// The cycle of `week`, nil when it has none.
    func calendarCycle(_ week: IsoWeek) -> WeeklyCycle? {
        try? cycle(of: week)
    }
}
