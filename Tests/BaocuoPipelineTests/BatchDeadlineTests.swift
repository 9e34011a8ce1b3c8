import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

/// Issue 27: a Friday deadline that passes without the return batches is visible — in the
/// scheduler's `baocuo_batch_deadline_missed` gauge, which an alert fires on, and in the exit
/// status of `baocuo batch status`.
@Suite(.serialized)
struct BatchDeadlineTests {
    /// `baocuo batch status --week 2026-W49` on the fixture's topics, judged at `now`.
    func batchStatus(_ fixture: WeeklyFixture, now: String, json: Bool = false) async throws -> (
        status: Int32?, stdout: String, log: String
    ) {
        let process = try ChildProcess(
            ["batch", "status", "--week", "2026-W49", "--brokers", fixture.brokers, "--now", now]
                + (json ? ["--json"] : []),
            environment: ["BAOCUO_TOPIC_PREFIX": fixture.names.prefix], name: "deadline-status")
        let stdout = process.standardOutput()
        let status = await process.waitForExit(timeout: .seconds(60))
        return (status, stdout, process.log)
    }

    @Test func returnBatchesNotEmittedByTheDueTimeShowInTheGaugeAndTheExitStatus() async throws {
        let fixture = try WeeklyFixture(prefix: "deadline.")
        try await fixture.route([("D-1", "210700", "2026-11-25T10:00:00+08:00")])
        let (registry, metricsFactory) = TestMetrics.makeRegistry()
        let clock = ManualClock("2026-11-30T09:01:00+08:00")
        let scheduler = fixture.scheduler(clock: clock, metricsFactory: metricsFactory)
        // Monday: the intake goes out. Then the scheduler does not tick again (every worker down,
        // or every tick failing) past Friday 16:00 + the 600 s grace.
        #expect(try await scheduler.tick().emitted.count == 401)
        func missed(_ kind: String) -> Double? {
            TestMetrics.value(of: #"baocuo_batch_deadline_missed{week="2026-W49",kind="\#(kind)"}"#, in: registry.emitToString())
        }

        clock.set("2026-12-04T16:05:00+08:00")  // due, within the grace
        scheduler.publishDeadlines(at: clock.now())
        #expect(missed("intake") == 0)
        #expect(missed("return") == 0)

        clock.set("2026-12-04T16:10:00+08:00")  // due + grace
        scheduler.publishDeadlines(at: clock.now())
        let text = registry.emitToString()
        #expect(missed("intake") == 0)
        #expect(missed("return") == 1, "\(text.split(separator: "\n").filter { $0.contains("deadline") })")
        #expect(TestMetrics.value(of: #"baocuo_week_batches_expected{week="2026-W49",kind="return"}"#, in: text) == 31)
        #expect(TestMetrics.value(of: #"baocuo_week_batches_emitted{week="2026-W49",kind="return"}"#, in: text) == 0)
        #expect(TestMetrics.value(of: #"baocuo_batches_emitted_total{kind="intake"}"#, in: text) == 401)
        #expect(text.contains("# HELP baocuo_batch_deadline_missed "))
        #expect(TestMetrics.familiesWithoutHelp(in: text).isEmpty, "\(TestMetrics.familiesWithoutHelp(in: text))")

        // The operator's view at the same instant: exit 1, the missing kind named on stderr.
        let late = try await batchStatus(fixture, now: "2026-12-04T16:10:00+08:00")
        #expect(late.status == 1, "\(late.log)")
        #expect(late.stdout.contains("return batches: 0/31 emitted"))
        #expect(late.log.contains("2026-W49 return batches not all emitted by their due time"), "\(late.log)")
        let lateJSON = try await batchStatus(fixture, now: "2026-12-04T16:10:00+08:00", json: true)
        #expect(lateJSON.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lateJSON.stdout.utf8)) as? [String: Any])
        #expect(object["deadlineMissed"] as? [String] == ["return"])
        // Within the grace the same state is not (yet) a failure.
        #expect(try await batchStatus(fixture, now: "2026-12-04T16:05:00+08:00").status == 0)

        // The scheduler comes back: the returns go out and the flag clears.
        clock.set("2026-12-04T16:11:00+08:00")
        #expect(try await scheduler.tick().emitted.count == 31)
        scheduler.publishDeadlines(at: clock.now())
        #expect(missed("return") == 0)
        #expect(try await batchStatus(fixture, now: "2026-12-04T16:11:00+08:00").status == 0)
    }

    @Test func aFirstStartEmitsNoHistoryUnlessAStartWeekIsGiven() async throws {
        let fixture = try WeeklyFixture(prefix: "golive.")
        try await fixture.route([("G-1", "210700", "2026-11-18T10:00:00+08:00"), ("G-2", "210700", "2026-11-25T10:00:00+08:00")])
        let clock = ManualClock("2026-12-04T16:01:00+08:00")
        // The default of `baocuo run`: an empty batches topic means a go-live, so only this week.
        let firstStart = fixture.scheduler(clock: clock, lookBackWeeks: 8, firstWeek: .sinceFirstEmission)
        let emitted = try await firstStart.tick().emitted
        #expect(Set(emitted.map(\.week.description)) == ["2026-W49"], "\(Set(emitted.map(\.week.description)))")
        #expect(firstStart.deadlines(at: clock.now()).allSatisfy { $0.week.description == "2026-W49" && !$0.missed })
        // A restart keeps the floor: the oldest emitted week.
        let restart = fixture.scheduler(clock: clock, lookBackWeeks: 8, firstWeek: .sinceFirstEmission)
        #expect(try await restart.tick().emitted.isEmpty)
        // Asked for: a start week two weeks back emits those weeks too.
        let asked = fixture.scheduler(clock: clock, lookBackWeeks: 8, firstWeek: .week(IsoWeek("2026-W47")!))
        #expect(Set(try await asked.tick().emitted.map(\.week.description)) == ["2026-W47", "2026-W48"])
    }
}
