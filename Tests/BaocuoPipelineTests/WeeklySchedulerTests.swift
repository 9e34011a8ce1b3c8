import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

/// The weekly cycle on the mock cluster with a simulated clock: each scenario has its own topic
/// prefix on one shared cluster.
@Suite(.serialized)
struct WeeklySchedulerTests {
    /// Intake batches of every region and return batches of every province for `week`, each complete.
    func expectEveryBatchComplete(_ fixture: WeeklyFixture, week: String, returns: Bool = true) async throws -> (
        intake: BatchConsumerView, returns: BatchConsumerView
    ) {
        let intake = try await fixture.consumerView(.intake)
        let intakeBatches = intake.week(week)
        #expect(intakeBatches.count == fixture.configuration.regions.regions.count, "intake batches of \(week)")
        #expect(intakeBatches.values.allSatisfy { $0.isComplete }, "an incomplete intake batch in \(week)")
        let returnView = try await fixture.consumerView(.return)
        if returns {
            let returnBatches = returnView.week(week)
            #expect(returnBatches.count == fixture.configuration.regions.provinces.count, "return batches of \(week)")
            #expect(returnBatches.values.allSatisfy { $0.isComplete }, "an incomplete return batch in \(week)")
        }
        return (intake, returnView)
    }

    @Test func normalWeekEmitsOneIntakePerRegionAndOneReturnPerProvinceAndARebuildReproducesThem() async throws {
        let fixture = try WeeklyFixture(prefix: "normal.")
        try await fixture.route([
            ("N-1", "210700", "2026-11-24T10:00:00+08:00"), ("N-2", "210700", "2026-11-25T10:00:00+08:00"),
            ("N-3", "210100", "2026-11-26T10:00:00+08:00"), ("N-4", "410100", "2026-11-27T10:00:00+08:00"),
            // Exactly at the intake instant: the next week's.
            ("N-5", "210700", "2026-11-30T09:00:00+08:00"),
        ])
        let clock = ManualClock("2026-11-30T09:00:30+08:00")
        let scheduler = fixture.scheduler(clock: clock)
        #expect(try await scheduler.tick().emitted.isEmpty, "nothing is due before the settle delay")

        clock.set("2026-11-30T09:01:00+08:00")
        let intakeTick = try await scheduler.tick()
        #expect(intakeTick.emitted.count == 401)
        try await fixture.resolve("N-1", agency: "210700", recordedAt: "2026-12-02T10:00:00+08:00")
        try await fixture.resolve("N-4", agency: "410100", outcome: "MANUAL_REIMBURSEMENT", recordedAt: "2026-12-04T15:59:59+08:00")
        try await fixture.resolve("N-2", agency: "210700", recordedAt: "2026-12-04T16:00:01+08:00")  // after the deadline

        clock.set("2026-12-04T16:01:00+08:00")
        let returnTick = try await scheduler.tick()
        #expect(returnTick.emitted.count == fixture.configuration.regions.provinces.count)
        #expect(returnTick.alreadyEmitted == 401)
        #expect(try await scheduler.tick().emitted.isEmpty, "a second tick emits nothing more")

        let (intake, returns) = try await expectEveryBatchComplete(fixture, week: "2026-W49")
        #expect(Set(intake.batches["intake-210700-2026-W49"]?.items.keys ?? [:].keys) == ["N-1", "N-2"])
        #expect(intake.batches["intake-210100-2026-W49"]?.itemCount == 1)
        #expect(intake.week("2026-W49").values.filter { $0.itemCount == 0 }.count == 398, "empty manifests for silent agencies")
        let liaoning = try #require(returns.batches["return-210000-2026-W49"])
        #expect(liaoning.outcome("N-1") == "RESETTLED")
        #expect(liaoning.outcome("N-2") == "PENDING")
        #expect(liaoning.outcome("N-3") == "PENDING")
        #expect(returns.batches["return-410000-2026-W49"]?.outcome("N-4") == "MANUAL_REIMBURSEMENT")

        // The operator rebuild reproduces every emitted batch: same revision, same digest, same records.
        let operations = fixture.operations
        let snapshot = try await operations.snapshot()
        for (kind, view) in [(BatchKind.intake, intake), (.return, returns)] {
            for emission in try operations.rebuild(kind, week: IsoWeek("2026-W49")!, snapshot: snapshot) {
                let emitted = try #require(view.batches[emission.batch.batchId])
                #expect(emission.revision == emitted.revision && emission.batch.digest == emitted.digest, "\(emission.batch.batchId)")
            }
        }
        let status = try operations.status(week: IsoWeek("2026-W49")!, snapshot: snapshot, now: clock.now())
        #expect(status.intake.emitted == 401 && status.intake.missing.isEmpty && status.intake.outdated.isEmpty)
        #expect(status.returns.emitted == fixture.configuration.regions.provinces.count)
        let liaoningStatus = try #require(status.provinces.first { $0.province == "210000" })
        #expect(
            (liaoningStatus.reports, liaoningStatus.resolvedByDeadline, liaoningStatus.outstanding, liaoningStatus.overdue) == (3, 1, 1, 1))
    }

    @Test func holidayWeeksAndAWeekWithoutCycle() async throws {
        let fixture = try WeeklyFixture(prefix: "holiday.")
        try await fixture.route([
            ("ND-1", "210700", "2026-09-29T10:00:00+08:00"),  // after the W40 intake: W41, intake Thursday 8 October
            ("SF-1", "210700", "2026-02-10T10:00:00+08:00"),  // after the W07 intake: W08 has no cycle, so W09
            ("SF-2", "210700", "2026-02-18T10:00:00+08:00"),  // during the holiday: W09
        ])
        let clock = ManualClock("2026-02-13T16:01:00+08:00")
        let scheduler = fixture.scheduler(clock: clock)
        #expect(try await scheduler.tick().emitted.map(\.week.description).allSatisfy { $0 == "2026-W07" })
        for day in ["2026-02-16T09:01:00+08:00", "2026-02-20T16:01:00+08:00", "2026-02-23T09:01:00+08:00"] {
            clock.set(day)
            #expect(try await scheduler.tick().emitted.isEmpty, "nothing is emitted in the Spring Festival week (\(day))")
        }
        clock.set("2026-02-24T09:01:00+08:00")
        #expect(try await scheduler.tick().emitted.count == 401)
        clock.set("2026-02-27T16:01:00+08:00")
        #expect(try await scheduler.tick().emitted.count == fixture.configuration.regions.provinces.count)

        clock.set("2026-09-30T16:01:00+08:00")
        let w40 = try await scheduler.tick().emitted
        #expect(Set(w40.map(\.week.description)) == ["2026-W40"] && w40.contains { $0.kind == .return })
        clock.set("2026-10-05T09:01:00+08:00")
        #expect(try await scheduler.tick().emitted.isEmpty, "Monday 5 October is a holiday")
        clock.set("2026-10-08T09:01:00+08:00")
        #expect(try await scheduler.tick().emitted.count == 401)
        clock.set("2026-10-09T16:01:00+08:00")
        #expect(try await scheduler.tick().emitted.count == fixture.configuration.regions.provinces.count)

        let (intake, returns) = try await expectEveryBatchComplete(fixture, week: "2026-W09")
        _ = try await expectEveryBatchComplete(fixture, week: "2026-W41")
        #expect(intake.batches.keys.allSatisfy { !$0.hasSuffix("2026-W08") })
        #expect(returns.batches.keys.allSatisfy { !$0.hasSuffix("2026-W08") })
        #expect(Set(intake.batches["intake-210700-2026-W09"]?.items.keys ?? [:].keys) == ["SF-1", "SF-2"])
        #expect(intake.batches["intake-210700-2026-W09"]?.manifest["intakeAt"] as? String == "2026-02-24T09:00:00+08:00")
        #expect(intake.batches["intake-210700-2026-W41"]?.manifest["dueBy"] as? String == "2026-10-09T16:00:00+08:00")
        #expect(intake.batches["intake-210700-2026-W40"]?.itemCount == 0)
        #expect(Set(intake.batches["intake-210700-2026-W41"]?.items.keys ?? [:].keys) == ["ND-1"])
    }

    @Test func pendingReportsAreCarriedOverForTwoWeeksAndForbiddenResolutionsAreDeadLettered() async throws {
        let fixture = try WeeklyFixture(prefix: "carry.")
        try await fixture.route([
            ("C-1", "210700", "2026-11-17T10:00:00+08:00"), ("C-2", "210700", "2026-11-17T11:00:00+08:00"),  // W48
        ])
        let clock = ManualClock("2026-11-27T16:01:00+08:00")
        let scheduler = fixture.scheduler(clock: clock)
        try await scheduler.tick()  // W48 intake and return: both PENDING

        // The treatment region tries to resolve the insured region's report: refused, visibly.
        try await fixture.resolve("C-1", agency: "410100", recordedAt: "2026-12-01T10:00:00+08:00")
        try await fixture.publishResolution(
            Array(
                #"{"schema":"baocuo.resolution/v1","reportId":"C-2","agency":"210700","outcome":"DONE","resolvedAt":"2026-12-01T10:00:00+08:00"}"#
                    .utf8),
            key: "C-2", recordedAt: "2026-12-01T10:00:00+08:00",
            topic: fixture.names.resolutions(region: "210700"))
        try await fixture.resolve("C-2", agency: "210700", outcome: "FILING_COMPLETED", recordedAt: "2026-12-01T11:00:00+08:00")
        clock.set("2026-12-04T16:01:00+08:00")
        let w49 = try await scheduler.tick()
        #expect(w49.deadLettered == 2)
        clock.set("2026-12-11T16:01:00+08:00")
        #expect(try await scheduler.tick().deadLettered == 0, "refusals are dead-lettered once")

        let returns = try await fixture.consumerView(.return)
        let week48 = try #require(returns.batches["return-210000-2026-W48"])
        #expect(week48.outcome("C-1") == "PENDING" && week48.outcome("C-2") == "PENDING")
        for week in ["2026-W49", "2026-W50"] {
            let batch = try #require(returns.batches["return-210000-\(week)"])
            #expect(Array(batch.items.keys) == ["C-1"], "\(week): only the unresolved report is carried over")
            #expect(batch.items["C-1"]?["overdue"] as? Bool == true)
            #expect(batch.items["C-1"]?["outcome"] as? String == "PENDING")
            #expect(batch.items["C-1"]?["intakeBatch"] as? String == "2026-W48")
            #expect(batch.manifest["carriedOverCount"] as? Int == 1)
        }

        let deadLetters = try await fixture.readAll { $0 == fixture.names.resolutionsDLQ }.sorted {
            $0.keyString ?? "" < $1.keyString ?? ""
        }
        #expect(deadLetters.map { $0.header(DeadLetterHeader.errorCode) } == ["FORBIDDEN_AGENCY", "INVALID_FIELD"])
        #expect(deadLetters[0].keyString == "C-1")
        #expect(deadLetters[0].header(DeadLetterHeader.sourceTopic) == fixture.names.resolutions(region: "410100"))
        #expect(deadLetters[0].header(DeadLetterHeader.errorDetail)?.contains("410100") == true)
        #expect(deadLetters[1].header(DeadLetterHeader.errorDetail)?.hasPrefix("outcome") == true)
        #expect(deadLetters.allSatisfy { $0.header(DeadLetterHeader.attempts) == "1" && $0.header(DeadLetterHeader.failedAt) != nil })
    }

    @Test func anAgencySpeaksOnlyForItselfAndTheSharedTopicCountsOnlyTheOwnerDuringTheWindow() async throws {
        let fixture = try WeeklyFixture(prefix: "agency.")
        let names = fixture.names
        try await fixture.route([
            ("A-1", "210700", "2026-11-24T10:00:00+08:00"), ("A-2", "410100", "2026-11-24T10:00:00+08:00"),
            ("A-3", "210700", "2026-11-24T11:00:00+08:00"), ("A-4", "410100", "2026-11-24T11:00:00+08:00"),
        ])
        // 410100 writes, on its own topic, a resolution of 210700's report that claims to come from 210700.
        try await fixture.resolve(
            "A-1", agency: "210700", recordedAt: "2026-12-01T10:00:00+08:00", topic: names.resolutions(region: "410100"))
        // 410100 resolves its own report on its own topic.
        try await fixture.resolve("A-2", agency: "410100", outcome: "MANUAL_REIMBURSEMENT", recordedAt: "2026-12-01T11:00:00+08:00")
        // The deprecated shared topic during the window: the owner's record counts, a non-owner's does not.
        try await fixture.resolve(
            "A-3", agency: "210700", outcome: "FILING_COMPLETED", recordedAt: "2026-12-02T10:00:00+08:00",
            topic: names.sharedResolutions)
        try await fixture.resolve("A-4", agency: "210700", recordedAt: "2026-12-02T11:00:00+08:00", topic: names.sharedResolutions)

        let (registry, metricsFactory) = TestMetrics.makeRegistry()
        let clock = ManualClock("2026-12-04T16:01:00+08:00")
        let scheduler = fixture.scheduler(clock: clock, metricsFactory: metricsFactory)
        #expect(try await scheduler.tick().deadLettered == 2)

        let returns = try await fixture.consumerView(.return)
        let liaoning = try #require(returns.batches["return-210000-2026-W49"])
        let henan = try #require(returns.batches["return-410000-2026-W49"])
        #expect(liaoning.outcome("A-1") == "PENDING", "the forged resolution does not count")
        #expect(liaoning.outcome("A-3") == "FILING_COMPLETED", "the owner's shared-topic resolution counts within the window")
        #expect(henan.outcome("A-2") == "MANUAL_REIMBURSEMENT")
        #expect(henan.outcome("A-4") == "PENDING", "a non-owner's shared-topic resolution does not count")

        let deadLetters = try await fixture.readAll { $0 == names.resolutionsDLQ }.sorted { $0.keyString ?? "" < $1.keyString ?? "" }
        #expect(deadLetters.map(\.keyString) == ["A-1", "A-4"])
        #expect(deadLetters.allSatisfy { $0.header(DeadLetterHeader.errorCode) == "FORBIDDEN_AGENCY" })
        #expect(deadLetters[0].header(DeadLetterHeader.sourceTopic) == "agency.agency.410100.resolutions")
        let forged = try #require(deadLetters[0].header(DeadLetterHeader.errorDetail))
        #expect(forged.contains("210700") && forged.contains("410100"), "\(forged)")
        #expect(deadLetters[1].header(DeadLetterHeader.sourceTopic) == names.sharedResolutions)
        #expect(deadLetters[1].header(DeadLetterHeader.errorDetail)?.contains("does not own") == true)

        func sharedTopic(_ outcome: String) -> Double? {
            TestMetrics.value(of: #"baocuo_resolutions_shared_topic_total{outcome="\#(outcome)"}"#, in: registry.emitToString())
        }
        #expect(sharedTopic("accepted") == 1 && sharedTopic("refused") == 1)
        #expect(try await scheduler.tick().deadLettered == 0, "records are checked and counted once")
        #expect(sharedTopic("accepted") == 1 && sharedTopic("refused") == 1)

        // After the window even the owner's shared-topic record is refused, visibly.
        try await fixture.resolve("A-4", agency: "410100", recordedAt: "2027-03-31T00:00:00+08:00", topic: names.sharedResolutions)
        clock.set("2027-03-31T10:00:00+08:00")
        #expect(try await scheduler.tick().deadLettered == 1)
        #expect(sharedTopic("after_window") == 1)
        let late = try await fixture.readAll { $0 == names.resolutionsDLQ }.filter {
            $0.timestampMs == Timestamp.parseRFC3339("2027-03-31T00:00:00+08:00")!.millisecondsSinceEpoch
        }
        #expect(late.first?.header(DeadLetterHeader.errorDetail)?.contains("migration window") == true)
    }

    @Test func aWorkerKilledMidEmissionIsCompletedIdenticallyByAFreshScheduler() async throws {
        let fixture = try WeeklyFixture(prefix: "crash.")
        try await fixture.route((1...30).map { ("K-\($0)", "210700", "2026-11-24T10:00:00+08:00") })
        // The dead worker got half the items of one batch out: no manifest, no marker.
        let operations = fixture.operations
        let emission = try #require(
            try operations.rebuild(
                .intake, week: IsoWeek("2026-W49")!, scope: "210700",
                snapshot: await operations.snapshot()
            ).first)
        let records = operations.emitter.records(of: emission)
        try await fixture.send(Array(records.prefix(15)))
        #expect(try await fixture.consumerView(.intake).batches.isEmpty, "without a manifest, consumers see no batch")

        let clock = ManualClock("2026-11-30T09:01:00+08:00")
        let tick = try await fixture.scheduler(clock: clock).tick()
        #expect(tick.emitted.count == 401)
        let (intake, _) = try await expectEveryBatchComplete(fixture, week: "2026-W49", returns: false)
        let batch = try #require(intake.batches["intake-210700-2026-W49"])
        #expect(batch.revision == 1 && batch.itemCount == 30 && batch.digest == emission.batch.digest)
        #expect(batch.records == 30 + 15 + 1, "the re-emission repeats the first 15 items byte for byte")
    }

    @Test func twoWorkersRacingEndInOneCompleteBatchEach() async throws {
        let fixture = try WeeklyFixture(prefix: "race.")
        try await fixture.route((1...20).map { ("R-\($0)", $0 % 2 == 0 ? "210700" : "440100", "2026-11-24T10:00:00+08:00") })
        let clock = ManualClock("2026-12-04T16:01:00+08:00")
        let first = fixture.scheduler(clock: clock)
        let second = fixture.scheduler(clock: clock)
        async let a = first.tick()
        async let b = second.tick()
        let ticks = try await [a, b]
        #expect(ticks.allSatisfy { $0.emitted.count + $0.alreadyEmitted == 401 + fixture.configuration.regions.provinces.count })
        let (intake, returns) = try await expectEveryBatchComplete(fixture, week: "2026-W49")
        #expect(intake.week("2026-W49").values.allSatisfy { $0.revision == 1 })
        #expect(intake.batches["intake-440100-2026-W49"]?.itemCount == 10)
        #expect(returns.batches["return-210000-2026-W49"]?.itemCount == 10)
        // Both markers agree, so a later tick by either emits nothing.
        #expect(try await first.tick().emitted.isEmpty)
    }

    @Test func lateDataIsNeverDroppedButEmittedAsTheNextRevision() async throws {
        let fixture = try WeeklyFixture(prefix: "late.")
        try await fixture.route([("L-1", "210700", "2026-11-24T10:00:00+08:00")])
        let clock = ManualClock("2026-11-30T09:01:00+08:00")
        let scheduler = fixture.scheduler(clock: clock)
        #expect(try await scheduler.tick().recordsRead == 1)
        // A replay routes a report received before the intake, after the intake was emitted.
        try await fixture.route([("L-2", "210700", "2026-11-29T23:00:00+08:00")])
        clock.set("2026-11-30T10:00:00+08:00")
        let status = try fixture.operations.status(
            week: IsoWeek("2026-W49")!, snapshot: await fixture.operations.snapshot(), now: clock.now())
        #expect(status.intake.outdated == ["intake-210700-2026-W49"])
        let tick = try await scheduler.tick()
        #expect(tick.recordsRead == 1, "a tick reads only what was appended since the last one")
        #expect(tick.emitted.map(\.batchId) == ["intake-210700-2026-W49"])
        #expect(tick.emitted.first?.revision == 2)
        let batch = try #require(try await fixture.consumerView(.intake).batches["intake-210700-2026-W49"])
        #expect(batch.revision == 2 && batch.isComplete)
        #expect(Set(batch.items.keys) == ["L-1", "L-2"], "revision 2 is complete on its own")
        let quiet = try await scheduler.tick()
        #expect(quiet.recordsRead == 0 && quiet.emitted.isEmpty)
    }

    /// The scheduler's reads resume where the last one stopped; a partition ending below that
    /// position (its topic deleted and created again) is refused, and the feed then reads it all.
    @Test func readsResumeAtTheirPositionsAndARewoundTopicIsRefused() async throws {
        let fixture = try WeeklyFixture(prefix: "positions.")
        try await fixture.route([("P-1", "210700", "2026-11-24T10:00:00+08:00"), ("P-2", "210700", "2026-11-24T11:00:00+08:00")])
        let reader = TopicReader(brokers: fixture.brokers, logger: TestLogging.logger)
        let inbox = try await reader.topics { $0 == fixture.names.inbox(region: "210700") }
        var first = 0
        let reached = try await reader.forEachRecord(in: inbox, from: [:]) { _ in first += 1 }
        let partition = TopicPartition(topic: fixture.names.inbox(region: "210700"), partition: 0)
        #expect(first == 2 && reached[partition] == 2)
        var again = 0
        #expect(try await reader.forEachRecord(in: inbox, from: reached) { _ in again += 1 } == reached)
        #expect(again == 0)
        await #expect(throws: TopicRewoundError.self) {
            _ = try await reader.forEachRecord(in: inbox, from: [partition: 5]) { _ in }
        }
    }

    /// Issue 24: next year's schedule loaded into a running fleet. The scheduler's `reload` is what
    /// SIGHUP calls in `baocuo run` (`RulesReloader`), with the configuration the same reload path
    /// reads; the signal itself is covered by ObservabilityTests' SIGHUP test.
    @Test func aScheduleLoadedAfterEmissionReEmitsExactlyTheBatchesWhoseCycleItMoved() async throws {
        let fixture = try WeeklyFixture(prefix: "schedule.")
        let regions = fixture.configuration.regions.regions.map(\.code)
        let provinces = fixture.configuration.regions.provinces
        // 2027 is provisional (statutory days only): W05 is due Thursday 4 February (5 February is 除夕),
        // W06's intake is Thursday 11 February (8 February is 初三, 9–10 days in lieu).
        try await fixture.route([
            ("S4-1", "210700", "2027-01-19T10:00:00+08:00"),  // W04, never resolved: carried over
            ("S5-1", "210700", "2027-01-26T10:00:00+08:00"),  // W05, resolved Wednesday evening
            ("S5-2", "440100", "2027-01-27T10:00:00+08:00"),  // W05, never resolved: carried into W06
            ("S6-1", "210700", "2027-02-02T10:00:00+08:00"),  // W06
        ])
        try await fixture.resolve("S5-1", agency: "210700", recordedAt: "2027-02-03T18:00:00+08:00")
        let clock = ManualClock("2027-02-12T16:01:00+08:00")
        let scheduler = fixture.scheduler(clock: clock, lookBackWeeks: 2)
        let all = 3 * (regions.count + provinces.count)
        #expect(try await scheduler.tick().emitted.count == all, "W04–W06: every intake and return")
        let before = try await fixture.consumerView(.return)
        #expect(before.batches["return-210000-2027-W05"]?.outcome("S5-1") == "RESETTLED", "resolved before Thursday 16:00")

        // The State Council's schedule: the statutory days, a bridge day on Thursday 4 February and a
        // make-up Saturday. Only W05 moves: due Wednesday 3 February.
        let schedule =
            StatutoryHolidays(year: 2027).daysOff.sorted().map { "\($0),holiday,Schedule 2027\n" }.joined()
            + "2027-02-04,holiday,Spring Festival\n2027-02-20,workday,Spring Festival\n"
        let reloaded = try fixture.reloadingCalendar(adding: schedule)
        let week = { (text: String) in IsoWeek(text)! }
        #expect(reloaded.calendar.basis(of: week("2027-W05")) == .published)
        #expect(reloaded.calendar.cycle(for: week("2027-W05"))?.dueBy == Timestamp.parseRFC3339("2027-02-03T16:00:00+08:00"))
        #expect(
            reloaded.calendar.cycle(for: week("2027-W05"))?.intakeAt
                == fixture.configuration.calendar.cycle(for: week("2027-W05"))?.intakeAt)
        for unchanged in ["2027-W04", "2027-W06"] {
            #expect(reloaded.calendar.cycle(for: week(unchanged)) == fixture.configuration.calendar.cycle(for: week(unchanged)))
        }
        scheduler.reload(configuration: reloaded)

        clock.set("2027-02-12T16:02:00+08:00")
        let tick = try await scheduler.tick()
        // W05's intakes and returns (manifest deadline, items' dueBy), and the one W06 return that
        // carries a W05 report over (that report's dueBy); nothing of W04, no other W06 batch.
        let affected = Set(regions.map { "intake-\($0)-2027-W05" } + provinces.map { "return-\($0)-2027-W05" } + ["return-440000-2027-W06"])
        #expect(tick.emitted.count == regions.count + provinces.count + 1)
        #expect(Set(tick.emitted.map(\.batchId)) == affected)
        #expect(tick.emitted.allSatisfy { $0.revision == 2 && $0.dueBy != nil })
        #expect(tick.alreadyEmitted == all - affected.count)
        #expect(try await scheduler.tick().emitted.isEmpty, "the same calendar again: no further revision")

        let intake = try await fixture.consumerView(.intake)
        let returns = try await fixture.consumerView(.return)
        let newDue = "2027-02-03T16:00:00+08:00"
        for (id, batch) in intake.batches.merging(returns.batches, uniquingKeysWith: { a, _ in a }) {
            #expect(batch.revision == (affected.contains(id) ? 2 : 1) && batch.isComplete, "\(id)")
        }
        #expect(intake.week("2027-W05").values.allSatisfy { $0.manifest["dueBy"] as? String == newDue })
        #expect(returns.week("2027-W05").values.allSatisfy { $0.manifest["dueBy"] as? String == newDue })
        let w05 = try #require(intake.batches["intake-210700-2027-W05"])
        #expect(w05.manifest["intakeBatch"] as? String == "2027-W05" && w05.manifest["intakeAt"] as? String == "2027-02-01T09:00:00+08:00")
        #expect(w05.items["S5-1"]?["dueBy"] as? String == newDue)
        // The return is rebuilt with the new deadline: resolved after it, S5-1 is now PENDING.
        let liaoning = try #require(returns.batches["return-210000-2027-W05"])
        #expect(liaoning.outcome("S5-1") == "PENDING" && liaoning.items["S5-1"]?["dueBy"] as? String == newDue)
        #expect(liaoning.items["S4-1"]?["intakeBatch"] as? String == "2027-W04" && liaoning.items["S4-1"]?["overdue"] as? Bool == true)
        let carried = try #require(returns.batches["return-440000-2027-W06"]?.items["S5-2"])
        #expect(
            carried["intakeBatch"] as? String == "2027-W05" && carried["dueBy"] as? String == newDue && carried["overdue"] as? Bool == true)
        #expect(returns.batches["return-210000-2027-W06"].map { Set($0.items.keys) } == ["S6-1", "S4-1"])
        // Revision 2's records carry the new deadline as their timestamp, like every return record.
        let records = try await fixture.readAll { $0 == fixture.names.returns(province: "210000") }
            .filter { $0.keyString == "return-210000-2027-W05" && $0.valueString.contains(#""revision":2"#) }
        #expect(!records.isEmpty && records.allSatisfy { $0.timestampMs == Timestamp.parseRFC3339(newDue)!.millisecondsSinceEpoch })
        // The agency's inbox keeps what the router recorded: the week, and the deadline of its time.
        let copy = try #require(
            try await fixture.readAll { $0 == fixture.names.inbox(region: "210700") }
                .compactMap { OwnerCopy(routedRecord: $0.value) }.first { $0.reportId == "S5-1" })
        #expect(copy.intakeBatch == week("2027-W05") && copy.dueBy == Timestamp.parseRFC3339("2027-02-04T16:00:00+08:00"))
    }

    @Test func theServiceFollowsTheClock() async throws {
        let fixture = try WeeklyFixture(prefix: "service.")
        let clock = ManualClock("2026-11-30T08:00:00+08:00")
        let scheduler = fixture.scheduler(clock: clock, tickInterval: .seconds(600))
        let running = Task { try await scheduler.run() }
        defer { running.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        clock.set("2026-11-30T09:01:00+08:00")
        let deadline = ContinuousClock.now + .seconds(30)
        var markers: [StoredRecord] = []
        while markers.count < 401 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            markers = try await fixture.readAll { $0 == fixture.names.batches }
        }
        #expect(markers.count == 401, "the service emitted the Monday intake once the clock reached it")
        running.cancel()
        try await running.value
    }
}
