import Foundation
import Testing

@testable import BaocuoDomain

private let shanghai = 8 * 3600

/// Builders over the repository's region table and calendar, and owner copies made the way the router makes them.
private enum BatchFixtures {
    static let regions = try! RegionCalendarFixtures.regionTable()
    static let calendar = try! RegionCalendarFixtures.workCalendar()
    static let builder = BatchBuilder(regions: regions, calendar: calendar)

    static func instant(_ text: String) -> Timestamp { Timestamp.parseRFC3339(text)! }

    static func cycle(_ week: String) -> WeeklyCycle { calendar.cycle(for: IsoWeek(week)!)! }

    /// An owner copy of `owner` received at `receivedAt`, placed in its cycle by the calendar.
    static func report(
        _ id: String, owner: String = "210700", category: Category = .filingMissing,
        receivedAt: String
    ) -> OwnerCopy {
        let received = instant(receivedAt)
        let cycle = calendar.cycle(receivedAt: received)
        return OwnerCopy(
            reportId: id, owner: owner, category: category, intakeBatch: cycle.week,
            intakeAt: cycle.intakeAt, dueBy: cycle.dueBy, receivedAt: received)
    }

    static let names = TopicNames()
    static let sharedTopicUntil = instant("2027-03-31T00:00:00+08:00")

    /// A resolution naming `agency`, written by `writer` (default: `agency` itself) to its own
    /// resolutions topic, or to the shared topic when `writer` is nil and `shared` is set.
    static func resolution(
        _ id: String, agency: String = "210700", outcome: String = "RESETTLED",
        recordedAt: String, offset: Int64, note: String? = nil,
        writer: String? = nil, shared: Bool = false
    ) -> ResolutionRecord {
        let noteField = note.map { #","note":"\#($0)""# } ?? ""
        let json =
            #"{"schema":"baocuo.resolution/v1","reportId":"\#(id)","agency":"\#(agency)","outcome":"\#(outcome)"\#(noteField),"resolvedAt":"\#(recordedAt)"}"#
        let topic = shared ? names.sharedResolutions : names.resolutions(region: writer ?? agency)
        return ResolutionRecord(
            value: Array(json.utf8), recordedAt: instant(recordedAt),
            position: RecordPosition(topic: topic, partition: 0, offset: offset),
            source: shared ? .shared : .agency(writer ?? agency))
    }

    static func sources(_ reports: [OwnerCopy], _ resolutions: [ResolutionRecord] = []) -> BatchSources {
        BatchSources(ownerCopies: reports, resolutionRecords: resolutions, sharedTopicUntil: sharedTopicUntil)
    }

    static func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func itemIds(_ batch: WeeklyBatch) -> [String] {
        switch batch.content {
        case .intake(let items): items.map(\.report.reportId)
        case .return(let items): items.map(\.report.reportId)
        }
    }

    static func returnItems(_ batch: WeeklyBatch) -> [ReturnItem] {
        guard case .return(let items) = batch.content else { return [] }
        return items
    }
}

@Suite struct OwnerCopyTests {
    @Test func readsTheOwnerCopyTheRouterWritesAndSkipsOtherCopies() throws {
        let configuration = try DomainConfiguration.load(
            directory: RegionCalendarFixtures.repositoryRoot.appendingPathComponent("Config").path, environment: [:])
        let report = Array(
            #"{"schema":"baocuo.report/v1","reportId":"R-9","reportedAt":"2026-11-23T09:15:02+08:00","hospital":{"code":"H1","regionCode":"410105"},"insured":{"regionCode":"210781"},"failure":{"stage":"settlement","code":"BZ-3012","message":"药品目录对照失败，项目编码不存在"}}"#
                .utf8)
        guard
            case .routed(let routed) = RoutingEngine(configuration: configuration).route(
                report, receivedAt: BatchFixtures.instant("2026-11-23T09:15:03+08:00"))
        else {
            Issue.record("sample report was not routed")
            return
        }
        let encoder = RoutedRecordEncoder(classifier: configuration.classifier, utcOffsetSeconds: shanghai)
        var owner: [UInt8] = []
        var cc: [UInt8] = []
        report.withUnsafeBytes { raw in
            encoder.append(routed, role: .owner, originalReport: raw, to: &owner)
            encoder.append(routed, role: .cc, originalReport: raw, to: &cc)
        }
        let copy = try #require(OwnerCopy(routedRecord: owner))
        #expect(copy.reportId == "R-9")
        #expect(copy.owner == routed.owner.code)
        #expect(copy.category == routed.classification.category)
        #expect(copy.intakeBatch.description == "2026-W49")
        #expect(copy.intakeAt == BatchFixtures.instant("2026-11-30T09:00:00+08:00"))
        #expect(copy.dueBy == BatchFixtures.instant("2026-12-04T16:00:00+08:00"))
        #expect(copy.receivedAt == BatchFixtures.instant("2026-11-23T09:15:03+08:00"))
        #expect(OwnerCopy(routedRecord: cc) == nil)
        #expect(OwnerCopy(routedRecord: Array("not json".utf8)) == nil)
    }
}

@Suite struct IntakeBatchTests {
    @Test func itemsAreTheWeeksReportsOfTheRegionSortedById() {
        let sources = BatchFixtures.sources([
            BatchFixtures.report("R-3", receivedAt: "2026-11-24T10:00:00+08:00"),
            BatchFixtures.report("R-1", receivedAt: "2026-11-28T10:00:00+08:00"),
            BatchFixtures.report("R-2", owner: "210100", receivedAt: "2026-11-25T10:00:00+08:00"),
            // Exactly at the W49 intake: belongs to W50.
            BatchFixtures.report("R-4", receivedAt: "2026-11-30T09:00:00+08:00"),
        ])
        let batch = BatchFixtures.builder.intakeBatch(region: "210700", cycle: BatchFixtures.cycle("2026-W49"), sources: sources)
        #expect(batch.batchId == "intake-210700-2026-W49")
        #expect(BatchFixtures.itemIds(batch) == ["R-1", "R-3"])
        let next = BatchFixtures.builder.intakeBatch(region: "210700", cycle: BatchFixtures.cycle("2026-W50"), sources: sources)
        #expect(BatchFixtures.itemIds(next) == ["R-4"])
    }

    @Test func everyRegionGetsABatchAndAnEmptyOneStillHasItsManifest() throws {
        let cycle = BatchFixtures.cycle("2026-W49")
        let batches = BatchFixtures.builder.intakeBatches(cycle: cycle, sources: BatchFixtures.sources([]))
        #expect(batches.count == 401)
        let records = BatchFixtures.builder.encoder.records(of: batches[0], revision: 1)
        #expect(records.count == 1)
        let manifest = try BatchFixtures.json(records[0])
        #expect(manifest["schema"] as? String == "baocuo.intake-manifest/v1")
        #expect(manifest["itemCount"] as? Int == 0)
        #expect(manifest["intakeAt"] as? String == "2026-11-30T09:00:00+08:00")
        #expect(manifest["dueBy"] as? String == "2026-12-04T16:00:00+08:00")
        #expect(manifest["digest"] as? String == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func recordsAreItemsThenManifestWithCountsAndAPinnedDigest() throws {
        let sources = BatchFixtures.sources([BatchFixtures.report("R-1", receivedAt: "2026-11-24T10:00:00+08:00")])
        let batch = BatchFixtures.builder.intakeBatch(region: "210700", cycle: BatchFixtures.cycle("2026-W49"), sources: sources)
        // SHA-256 of `"region":"210700","reportId":"R-1","category":"FILING_MISSING","dueBy":"2026-12-04T16:00:00+08:00"\n`.
        #expect(batch.digest == "fe40fbca7252227927b9a57367e0a93b1c208804a62e5448f93459249267a26a")
        let records = BatchFixtures.builder.encoder.records(of: batch, revision: 2)
        #expect(records.count == 2)
        let item = try BatchFixtures.json(records[0])
        #expect(item["schema"] as? String == "baocuo.intake-item/v1")
        #expect(item["batchId"] as? String == "intake-210700-2026-W49")
        #expect(item["revision"] as? Int == 2)
        #expect(item["reportId"] as? String == "R-1")
        #expect(item["category"] as? String == "FILING_MISSING")
        let manifest = try BatchFixtures.json(records[1])
        #expect(manifest["itemCount"] as? Int == 1)
        #expect(manifest["categories"] as? [String: Int] == ["FILING_MISSING": 1])
        #expect(manifest["revision"] as? Int == 2)
        // Encoding is a function of batch and revision.
        #expect(BatchFixtures.builder.encoder.records(of: batch, revision: 2) == records)
    }

    @Test func digestDependsOnContentNotOnInputOrderAndChangesWhenAReportIsAdded() {
        let reports = (1...5).map { BatchFixtures.report("R-\($0)", receivedAt: "2026-11-2\($0 + 3)T10:00:00+08:00") }
        let cycle = BatchFixtures.cycle("2026-W49")
        let forward = BatchFixtures.builder.intakeBatch(region: "210700", cycle: cycle, sources: BatchFixtures.sources(reports))
        let backward = BatchFixtures.builder.intakeBatch(region: "210700", cycle: cycle, sources: BatchFixtures.sources(reports.reversed()))
        #expect(forward.digest == backward.digest)
        #expect(BatchFixtures.itemIds(backward) == ["R-1", "R-2", "R-3", "R-4", "R-5"])
        let late = reports + [BatchFixtures.report("R-6", receivedAt: "2026-11-29T10:00:00+08:00")]
        #expect(
            BatchFixtures.builder.intakeBatch(region: "210700", cycle: cycle, sources: BatchFixtures.sources(late)).digest != forward.digest
        )
    }

    @Test func theLatestDecisionStandsInTheIntakeWeekOfTheFirstReceipt() {
        // The original routing (decided 2026-11-24), an at-least-once repeat received later, and a
        // replay decided 2026-12-07 that changes the category: the replay's category stands, the
        // report stays in the intake of its first receipt and appears once.
        func decided(_ copy: OwnerCopy, _ at: String, offset: Int64) -> OwnerCopy {
            var copy = copy
            copy.decidedAt = BatchFixtures.instant(at)
            copy.decisionPosition = RecordPosition(topic: "yb.agency.210700.inbox", partition: 0, offset: offset)
            return copy
        }
        let first = decided(BatchFixtures.report("R-1", receivedAt: "2026-11-24T10:00:00+08:00"), "2026-11-24T10:00:01+08:00", offset: 0)
        let repeated = decided(BatchFixtures.report("R-1", receivedAt: "2026-12-01T10:00:00+08:00"), "2026-12-01T10:00:01+08:00", offset: 1)
        let replayed = decided(
            BatchFixtures.report("R-1", category: .credential, receivedAt: "2026-11-24T10:00:00+08:00"),
            "2026-12-07T10:00:00+08:00", offset: 2)
        for order in [[replayed, first, repeated], [first, repeated, replayed], [repeated, replayed, first]] {
            let sources = BatchFixtures.sources(order)
            let standing = sources.reports["R-1"]
            #expect(standing?.category == .credential, "the latest decision stands, whatever the read order")
            #expect(standing?.receivedAt == first.receivedAt && standing?.intakeBatch == first.intakeBatch)
            #expect(
                BatchFixtures.itemIds(
                    BatchFixtures.builder.intakeBatch(region: "210700", cycle: BatchFixtures.cycle("2026-W49"), sources: sources)) == [
                        "R-1"
                    ])
            #expect(
                BatchFixtures.itemIds(
                    BatchFixtures.builder.intakeBatch(region: "210700", cycle: BatchFixtures.cycle("2026-W50"), sources: sources)
                ).isEmpty)
        }
        // Without decision times (pure callers), the order given decides: the last copy given stands.
        #expect(
            BatchFixtures.sources([
                BatchFixtures.report("R-2", receivedAt: "2026-11-24T10:00:00+08:00"),
                BatchFixtures.report("R-2", category: .credential, receivedAt: "2026-11-24T10:00:00+08:00"),
            ])
            .reports["R-2"]?.category == .credential)
    }

    @Test func aReportMovedToAnotherOwnerLeavesTheFormerOwnersBatchesAndItsLaterResolutionsAreRefused() throws {
        var original = BatchFixtures.report("R-1", receivedAt: "2026-11-24T10:00:00+08:00")
        original.decidedAt = BatchFixtures.instant("2026-11-24T10:00:01+08:00")
        var moved = BatchFixtures.report("R-1", owner: "210100", receivedAt: "2026-11-24T10:00:00+08:00")
        moved.decidedAt = BatchFixtures.instant("2026-12-02T10:00:00+08:00")
        let sources = BatchFixtures.sources(
            [original, moved],
            [
                BatchFixtures.resolution(
                    "R-1", agency: "210700", outcome: "NEED_MORE_INFO", recordedAt: "2026-12-01T10:00:00+08:00", offset: 0),
                BatchFixtures.resolution("R-1", agency: "210700", outcome: "RESETTLED", recordedAt: "2026-12-03T10:00:00+08:00", offset: 1),
                BatchFixtures.resolution("R-1", agency: "210100", outcome: "FORWARDED", recordedAt: "2026-12-01T12:00:00+08:00", offset: 2),
            ])
        let cycle = BatchFixtures.cycle("2026-W49")
        #expect(BatchFixtures.itemIds(BatchFixtures.builder.intakeBatch(region: "210700", cycle: cycle, sources: sources)).isEmpty)
        #expect(BatchFixtures.itemIds(BatchFixtures.builder.intakeBatch(region: "210100", cycle: cycle, sources: sources)) == ["R-1"])
        #expect(sources.ownerHistory["R-1"]?.map(\.owner) == ["210700", "210100"])
        // Before the withdrawal the former owner owned it: its resolution stays valid and counts.
        #expect(sources.resolutions["R-1"]?.map(\.resolution.agency) == ["210700"])
        #expect(sources.resolution(of: "R-1", atOrBefore: cycle.dueBy)?.resolution.outcome == .needMoreInfo)
        // After it, the former owner is refused naming the new owner; the new owner before the move too.
        #expect(sources.refused.map(\.rejection.code) == [.forbiddenAgency, .forbiddenAgency])
        let afterWithdrawal = try #require(sources.refused.first { $0.position.offset == 1 })
        #expect(
            afterWithdrawal.rejection.detail.contains("withdrawn from 210700")
                && afterWithdrawal.rejection.detail.contains("now belongs to 210100"),
            "\(afterWithdrawal.rejection.detail)")
        let beforeMove = try #require(sources.refused.first { $0.position.offset == 2 })
        #expect(beforeMove.rejection.detail.contains("does not own the report (owner 210700)"), "\(beforeMove.rejection.detail)")
    }
}

@Suite struct ReturnBatchTests {
    @Test func latestValidResolutionAtOrBeforeTheDeadlineCounts() throws {
        let dueBy = "2026-12-04T16:00:00+08:00"
        let sources = BatchFixtures.sources(
            [
                BatchFixtures.report("A", receivedAt: "2026-11-24T10:00:00+08:00"),
                BatchFixtures.report("B", receivedAt: "2026-11-24T10:00:00+08:00"),
                BatchFixtures.report("C", owner: "210100", receivedAt: "2026-11-24T10:00:00+08:00"),
                BatchFixtures.report("D", receivedAt: "2026-11-24T10:00:00+08:00"),
            ],
            [
                BatchFixtures.resolution("A", outcome: "NEED_MORE_INFO", recordedAt: "2026-12-01T10:00:00+08:00", offset: 0),
                BatchFixtures.resolution("A", outcome: "RESETTLED", recordedAt: dueBy, offset: 1, note: "已补办备案"),
                BatchFixtures.resolution("A", outcome: "REJECTED", recordedAt: "2026-12-04T16:00:00.001+08:00", offset: 2),
                // Too late for this return.
                BatchFixtures.resolution("B", recordedAt: "2026-12-04T16:00:01+08:00", offset: 3),
                // From an agency that does not own C: refused, never counts.
                BatchFixtures.resolution("C", agency: "210700", recordedAt: "2026-12-01T10:00:00+08:00", offset: 4),
                // Malformed.
                ResolutionRecord(
                    value: Array(#"{"schema":"baocuo.resolution/v1","reportId":"D"}"#.utf8),
                    recordedAt: BatchFixtures.instant("2026-12-01T10:00:00+08:00"),
                    position: RecordPosition(topic: BatchFixtures.names.resolutions(region: "210700"), partition: 0, offset: 5),
                    source: .agency("210700")),
            ])
        let batch = BatchFixtures.builder.returnBatch(province: "210000", cycle: BatchFixtures.cycle("2026-W49"), sources: sources)
        #expect(batch.batchId == "return-210000-2026-W49")
        let items = BatchFixtures.returnItems(batch)
        #expect(items.map(\.report.reportId) == ["A", "B", "C", "D"])
        #expect(items.map(\.outcome) == ["RESETTLED", "PENDING", "PENDING", "PENDING"])
        #expect(items.allSatisfy { !$0.overdue })
        #expect(sources.refused.map(\.rejection.code) == [.forbiddenAgency, .missingField])
        #expect(sources.refused[0].rejection.detail.contains("does not own"))

        let records = BatchFixtures.builder.encoder.records(of: batch, revision: 1)
        let first = try BatchFixtures.json(records[0])
        #expect(first["schema"] as? String == "baocuo.return-item/v1")
        #expect(first["province"] as? String == "210000")
        #expect(first["note"] as? String == "已补办备案")
        #expect(first["overdue"] as? Bool == false)
        let manifest = try BatchFixtures.json(records.last!)
        #expect(manifest["schema"] as? String == "baocuo.return-manifest/v1")
        #expect(manifest["outcomes"] as? [String: Int] == ["RESETTLED": 1, "PENDING": 3])
        #expect(manifest["currentCount"] as? Int == 4)
        #expect(manifest["carriedOverCount"] as? Int == 0)
    }

    @Test func theTopicNamesTheResolvingAgencyAndAPayloadNamingAnotherIsRefused() throws {
        let sources = BatchFixtures.sources(
            [
                BatchFixtures.report("A", owner: "210700", receivedAt: "2026-11-24T10:00:00+08:00"),
                BatchFixtures.report("B", owner: "410100", receivedAt: "2026-11-24T10:00:00+08:00"),
            ],
            [
                // 410100 writes, on its own topic, a resolution that claims to come from A's owner 210700.
                BatchFixtures.resolution("A", agency: "210700", recordedAt: "2026-12-01T10:00:00+08:00", offset: 0, writer: "410100"),
                // 410100 resolves its own report on its own topic.
                BatchFixtures.resolution(
                    "B", agency: "410100", outcome: "MANUAL_REIMBURSEMENT", recordedAt: "2026-12-01T11:00:00+08:00", offset: 1),
            ])
        #expect(sources.resolutions["A"] == nil, "the forged resolution never counts")
        #expect(sources.resolution(of: "B", atOrBefore: BatchFixtures.cycle("2026-W49").dueBy)?.resolution.outcome == .manualReimbursement)
        let refusal = try #require(sources.refused.first)
        #expect(sources.refused.count == 1)
        #expect(refusal.rejection.code == .forbiddenAgency)
        #expect(refusal.position.topic == "yb.agency.410100.resolutions")
        #expect(refusal.rejection.detail.contains("210700") && refusal.rejection.detail.contains("410100"), "\(refusal.rejection.detail)")
    }

    @Test func theSharedTopicCountsOnlyTheOwnerAndOnlyDuringTheWindow() {
        let sources = BatchFixtures.sources(
            [
                BatchFixtures.report("A", owner: "210700", receivedAt: "2026-11-24T10:00:00+08:00"),
                BatchFixtures.report("B", owner: "410100", receivedAt: "2026-11-24T10:00:00+08:00"),
                BatchFixtures.report("C", owner: "210700", receivedAt: "2027-03-22T10:00:00+08:00"),
            ],
            [
                BatchFixtures.resolution("A", agency: "210700", recordedAt: "2026-12-01T10:00:00+08:00", offset: 0, shared: true),
                // On the shared topic the payload is all there is: naming the owner 410100 of B counts,
                // naming 210700 for B does not.
                BatchFixtures.resolution("B", agency: "210700", recordedAt: "2026-12-01T10:00:00+08:00", offset: 1, shared: true),
                // After the window even the owner is refused.
                BatchFixtures.resolution("C", agency: "210700", recordedAt: "2027-03-31T00:00:00+08:00", offset: 2, shared: true),
            ])
        #expect(sources.resolutions.keys.sorted() == ["A"])
        #expect(sources.refused.map(\.rejection.code) == [.forbiddenAgency, .forbiddenAgency])
        #expect(sources.refused[0].rejection.detail.contains("does not own"))
        #expect(sources.refused[1].rejection.detail.contains("migration window"))
    }

    @Test func unresolvedReportsAreCarriedOverAsOverdueUntilResolved() {
        let sources = BatchFixtures.sources(
            [
                BatchFixtures.report("OLD-1", receivedAt: "2026-11-17T10:00:00+08:00"),  // W48
                BatchFixtures.report("OLD-2", receivedAt: "2026-11-17T11:00:00+08:00"),  // W48
                BatchFixtures.report("NEW-1", receivedAt: "2026-11-24T10:00:00+08:00"),  // W49
                BatchFixtures.report("OTHER", owner: "410100", receivedAt: "2026-11-17T10:00:00+08:00"),  // another province
            ],
            [
                // OLD-2 resolved during W49, before its deadline.
                BatchFixtures.resolution("OLD-2", recordedAt: "2026-12-02T10:00:00+08:00", offset: 0)
            ])
        let w48 = BatchFixtures.returnItems(
            BatchFixtures.builder.returnBatch(province: "210000", cycle: BatchFixtures.cycle("2026-W48"), sources: sources))
        #expect(w48.map(\.report.reportId) == ["OLD-1", "OLD-2"])
        #expect(w48.allSatisfy { !$0.overdue && $0.outcome == "PENDING" })

        let w49 = BatchFixtures.returnItems(
            BatchFixtures.builder.returnBatch(province: "210000", cycle: BatchFixtures.cycle("2026-W49"), sources: sources))
        #expect(w49.map(\.report.reportId) == ["NEW-1", "OLD-1"])
        #expect(w49.map(\.overdue) == [false, true])
        #expect(w49.map(\.outcome) == ["PENDING", "PENDING"])

        // Two weeks on, both still-unresolved reports are carried, oldest week first.
        let w50 = BatchFixtures.returnItems(
            BatchFixtures.builder.returnBatch(province: "210000", cycle: BatchFixtures.cycle("2026-W50"), sources: sources))
        #expect(w50.map(\.report.reportId) == ["OLD-1", "NEW-1"])
        #expect(w50.allSatisfy { $0.overdue })
    }

    @Test func everyProvinceGetsAReturnBatch() {
        let batches = BatchFixtures.builder.returnBatches(cycle: BatchFixtures.cycle("2026-W49"), sources: BatchFixtures.sources([]))
        #expect(batches.count == BatchFixtures.regions.provinces.count)
        #expect(batches.allSatisfy { $0.itemCount == 0 })
    }
}

@Suite struct BatchScheduleTests {
    let schedule = BatchSchedule(calendar: BatchFixtures.calendar, lookBackWeeks: 2, settleMilliseconds: 60_000)

    func due(_ at: String) -> [String] {
        schedule.dueCycles(at: BatchFixtures.instant(at)).map { "\($0.cycle.week)\($0.returnDue ? "+return" : "")" }
    }

    @Test func intakeAndReturnFallDueAfterTheSettleDelay() {
        #expect(due("2026-11-30T09:00:59+08:00") == ["2026-W47+return", "2026-W48+return"])
        #expect(due("2026-11-30T09:01:00+08:00") == ["2026-W47+return", "2026-W48+return", "2026-W49"])
        #expect(due("2026-12-04T16:01:00+08:00") == ["2026-W47+return", "2026-W48+return", "2026-W49+return"])
        #expect(
            schedule.nextDue(after: BatchFixtures.instant("2026-11-30T09:00:00+08:00"))
                == BatchFixtures.instant("2026-11-30T09:01:00+08:00"))
        #expect(
            schedule.nextDue(after: BatchFixtures.instant("2026-11-30T09:01:00+08:00"))
                == BatchFixtures.instant("2026-12-04T16:01:00+08:00"))
    }

    @Test func holidayWeeksFollowTheCalendar() {
        // National Day: W40 due Wednesday; W41's intake is Thursday 8 October.
        #expect(due("2026-09-30T16:01:00+08:00").last == "2026-W40+return")
        #expect(due("2026-10-08T09:00:30+08:00").last == "2026-W40+return")
        #expect(due("2026-10-08T09:01:00+08:00").last == "2026-W41")
        // Spring Festival: W08 has no cycle; the next intake is Tuesday 24 February.
        #expect(due("2026-02-20T12:00:00+08:00") == ["2026-W06+return", "2026-W07+return"])
        #expect(
            schedule.nextDue(after: BatchFixtures.instant("2026-02-13T16:01:00+08:00"))
                == BatchFixtures.instant("2026-02-24T09:01:00+08:00"))
        #expect(due("2026-02-27T16:01:00+08:00") == ["2026-W07+return", "2026-W09+return"])
    }
}

@Suite struct BatchMarkerTests {
    func marker(_ revision: Int, digest: String, at: String = "2026-11-30T09:01:00+08:00") -> BatchMarker {
        BatchMarker(
            batchId: "intake-210700-2026-W49", kind: .intake, week: IsoWeek("2026-W49")!, scope: "210700",
            revision: revision, digest: digest, itemCount: 3, emittedAt: BatchFixtures.instant(at))
    }

    @Test func roundTripsThroughItsRecord() {
        let original = marker(2, digest: "abc")
        #expect(BatchMarker(record: original.encoded(utcOffsetSeconds: shanghai)) == original)
        #expect(BatchMarker(record: Array(#"{"schema":"baocuo.intake-item/v1"}"#.utf8)) == nil)
    }

    @Test func highestRevisionStandsAndTheLaterOfTwoEqualOnes() {
        let latest = BatchMarker.latest([marker(1, digest: "a"), marker(2, digest: "b"), marker(2, digest: "c"), marker(1, digest: "d")])
        #expect(latest["intake-210700-2026-W49"]?.digest == "c")
    }

    @Test func revisionIsRepeatedForUnchangedContentAndIncrementedForChangedContent() {
        let batch = BatchFixtures.builder.intakeBatch(
            region: "210700", cycle: BatchFixtures.cycle("2026-W49"), sources: BatchFixtures.sources([]))
        #expect(BatchMarker.revision(for: batch, latest: nil) == (1, false))
        #expect(BatchMarker.revision(for: batch, latest: marker(3, digest: batch.digest)) == (3, true))
        #expect(BatchMarker.revision(for: batch, latest: marker(3, digest: "other")) == (4, false))
    }

    @Test func recordsTheCycleItWasEmittedWithAndReadsMarkersWithoutIt() throws {
        let batch = BatchFixtures.builder.intakeBatch(
            region: "210700", cycle: BatchFixtures.cycle("2026-W49"), sources: BatchFixtures.sources([]))
        let current = BatchMarker(batch: batch, revision: 1, emittedAt: BatchFixtures.instant("2026-11-30T09:01:00+08:00"))
        let record = current.encoded(utcOffsetSeconds: shanghai)
        #expect(BatchMarker(record: record) == current)
        let json = try BatchFixtures.json(record)
        #expect(json["intakeAt"] as? String == "2026-11-30T09:00:00+08:00")
        #expect(json["dueBy"] as? String == "2026-12-04T16:00:00+08:00")
        // A marker written before the cycle was recorded.
        let old = try #require(
            BatchMarker(
                record: Array(
                    #"{"schema":"baocuo.batch-marker/v1","batchId":"intake-210700-2026-W49","kind":"intake","week":"2026-W49","scope":"210700","revision":1,"digest":"abc","itemCount":3,"emittedAt":"2026-11-30T09:01:00+08:00"}"#
                        .utf8)))
        #expect(old.intakeAt == nil && old.dueBy == nil && old == marker(1, digest: "abc"))
        #expect(
            BatchMarker(
                record: Array(
                    #"{"schema":"baocuo.batch-marker/v1","batchId":"intake-210700-2026-W49","kind":"intake","week":"2026-W49","scope":"210700","revision":1,"digest":"abc","itemCount":3,"dueBy":"Friday","emittedAt":"2026-11-30T09:01:00+08:00"}"#
                        .utf8)) == nil)
    }

    @Test func aMovedIntakeOrDeadlineIsANewRevisionButAMarkerWithoutTheCycleIsTrusted() {
        let cycle = BatchFixtures.cycle("2026-W49")
        let sources = BatchFixtures.sources([])
        let batch = BatchFixtures.builder.intakeBatch(region: "210700", cycle: cycle, sources: sources)
        let emitted = BatchMarker(batch: batch, revision: 2, emittedAt: BatchFixtures.instant("2026-11-30T09:01:00+08:00"))
        #expect(BatchMarker.revision(for: batch, latest: emitted) == (2, true))
        let earlierDue = WeeklyCycle(
            week: cycle.week, intakeDay: cycle.intakeDay, intakeAt: cycle.intakeAt,
            dueBy: BatchFixtures.instant("2026-12-03T16:00:00+08:00"))
        let laterIntake = WeeklyCycle(
            week: cycle.week, intakeDay: cycle.intakeDay.adding(days: 1),
            intakeAt: BatchFixtures.instant("2026-12-01T09:00:00+08:00"), dueBy: cycle.dueBy)
        for moved in [earlierDue, laterIntake] {
            let rebuilt = BatchFixtures.builder.intakeBatch(region: "210700", cycle: moved, sources: sources)
            #expect(rebuilt.digest == batch.digest, "no items: only the manifest and the record timestamps move")
            #expect(BatchMarker.revision(for: rebuilt, latest: emitted) == (3, false))
            #expect(
                BatchMarker.revision(for: rebuilt, latest: marker(2, digest: batch.digest)) == (2, true),
                "an old marker is compared by digest")
        }
    }
}

@Suite struct BatchCalendarChangeTests {
    /// The repository's calendar with `rows` added (e.g. a bridge day the schedule adds).
    static func calendar(adding rows: String) throws -> WorkCalendar {
        try WorkCalendar(csv: RegionCalendarFixtures.configFile("calendar.csv") + rows, source: "calendar.csv")
    }

    @Test func itemsKeepTheirRoutedWeekAndCarryItsCurrentDeadline() throws {
        // Routed under the calendar in force: W49, due Friday 4 December.
        let report = BatchFixtures.report("R-1", receivedAt: "2026-11-24T10:00:00+08:00")
        let sources = BatchFixtures.sources([report])
        let moved = try Self.calendar(adding: "2026-12-04,holiday,Test bridge day\n")
        let builder = BatchBuilder(regions: BatchFixtures.regions, calendar: moved)
        let cycle = try #require(moved.cycle(for: IsoWeek("2026-W49")!))
        #expect(cycle.dueBy == BatchFixtures.instant("2026-12-03T16:00:00+08:00"))

        let intake = builder.intakeBatch(region: "210700", cycle: cycle, sources: sources)
        guard case .intake(let items) = intake.content else {
            Issue.record("not an intake")
            return
        }
        #expect(items.map(\.report.intakeBatch) == [IsoWeek("2026-W49")!])
        #expect(items.map(\.report.dueBy) == [cycle.dueBy])
        let before = BatchFixtures.builder.intakeBatch(region: "210700", cycle: BatchFixtures.cycle("2026-W49"), sources: sources)
        #expect(intake.digest != before.digest, "the items' deadline is part of the digest")

        // Carried over, the report keeps its week and shows that week's current deadline.
        let w50 = builder.returnBatch(province: "210000", cycle: try #require(moved.cycle(for: IsoWeek("2026-W50")!)), sources: sources)
        let carried = BatchFixtures.returnItems(w50)
        #expect(carried.map(\.overdue) == [true])
        #expect(carried.map(\.report.intakeBatch) == [IsoWeek("2026-W49")!])
        #expect(carried.map(\.report.dueBy) == [cycle.dueBy])
        // Under an unchanged calendar nothing moves.
        let unchanged = BatchBuilder(regions: BatchFixtures.regions, calendar: try Self.calendar(adding: ""))
        #expect(unchanged.intakeBatch(region: "210700", cycle: BatchFixtures.cycle("2026-W49"), sources: sources).digest == before.digest)
    }
}
