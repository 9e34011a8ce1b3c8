import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

/// Issue 26: a replay's corrections reach the agencies. A week routed and emitted, the rules changed
/// (a decisive classification rule and a new pooling region), a replay executed: the next tick emits
/// new revisions of exactly the affected batches, the former owner gets `baocuo.withdrawn/v1`, and a
/// second identical replay changes nothing.
@Suite(.serialized)
struct ReplayCorrectionsTests {
    static let prefix = "corrections."
    /// A county that resolves to 210700 (锦州市) until the new region table makes it a pool of its own.
    static let movedCounty = "210781"
    /// The failure code the new rules classify as INSURED_STATUS with a decisive weight.
    static let recodedFailure = "ZZ-9901"

    /// A copy of `Config/` (the trained model too) under the fixture's prefix, with the rules
    /// changed: a decisive rule for `recodedFailure` and `movedCounty` as a pooling region.
    static func changedRulesFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("baocuo-corrections-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in [DomainConfiguration.regionsFile, DomainConfiguration.calendarFile, ClassifierModel.fileName] {
            try FileManager.default.copyItem(atPath: TestPaths.config + "/" + file, toPath: folder + "/" + file)
        }
        let settings = try String(contentsOfFile: TestPaths.config + "/" + DomainConfiguration.settingsFile, encoding: .utf8)
        try settings.replacingOccurrences(of: #"topicPrefix: "yb.""#, with: #"topicPrefix: "\#(prefix)""#)
            .write(toFile: folder + "/" + DomainConfiguration.settingsFile, atomically: true, encoding: .utf8)
        let rules = try String(contentsOfFile: TestPaths.config + "/" + DomainConfiguration.rulesFile, encoding: .utf8)
        let decisive = "rules:\n  - id: replay-test-recoded\n    category: INSURED_STATUS\n    weight: 9\n    codes: [\(recodedFailure)]\n"
        try rules.replacingOccurrences(of: "\nrules:\n", with: "\n" + decisive)
            .write(toFile: folder + "/" + DomainConfiguration.rulesFile, atomically: true, encoding: .utf8)
        let regions = try String(contentsOfFile: folder + "/" + DomainConfiguration.regionsFile, encoding: .utf8)
        try (regions.trimmingCharacters(in: .newlines) + "\r\n\(movedCounty),凌海市,county-direct,210000,辽宁省\r\n")
            .write(toFile: folder + "/" + DomainConfiguration.regionsFile, atomically: true, encoding: .utf8)
        return folder
    }

    static func report(_ id: String, insured: String, code: String, receivedAt: String) -> [UInt8] {
        Array(
            #"{"schema":"baocuo.report/v1","reportId":"\#(id)","reportedAt":"\#(receivedAt)","hospital":{"code":"H41010500123","regionCode":"410105"},"insured":{"regionCode":"\#(insured)","insuranceType":"employee"},"failure":{"stage":"settlement","code":"\#(code)","message":"未查询到该参保人有效的异地就医备案信息"}}"#
                .utf8)
    }

    func replay(
        _ fixture: WeeklyFixture, configuration: DomainConfiguration, execute: Bool,
        restart: Bool = false
    ) async throws -> ReplaySummary {
        let options = ReplayOptions(
            brokers: fixture.brokers, sourceTopic: fixture.names.failures, group: "corrections-replay",
            selection: ReplaySelection(range: .offsets(partition: 0, start: nil, end: nil)),
            execute: execute, restart: restart, pollBatchSize: 3, commitInterval: .milliseconds(100))
        let plan = try await ReplayPlan.resolve(options, logger: TestLogging.logger)
        let runner = ReplayRunner(
            options: options, router: RecordRouter(configuration: configuration, group: options.group),
            logger: TestLogging.logger)
        return try await runner.run(plan)
    }

    /// The preview as an operator runs it (`baocuo replay` without `--execute`), its stdout.
    func preview(_ fixture: WeeklyFixture, folder: String, json: Bool = false) async throws -> String {
        let child = try ChildProcess(
            [
                "replay", "--brokers", fixture.brokers, "--partition", "0", "--start-offset", "0",
                "--group", "corrections-preview",
            ] + (json ? ["--json"] : []),
            environment: ["BAOCUO_CONFIG_DIR": folder], name: "replay-corrections-preview")
        let output = child.standardOutput()
        let status = await child.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "\(child.log.suffix(1500))")
        return output
    }

    @Test func aReplayWithNewRulesReEmitsExactlyTheAffectedBatchesAndWithdrawsTheMovedReport() async throws {
        let fixture = try WeeklyFixture(prefix: Self.prefix)
        let folder = try Self.changedRulesFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let before = fixture.configuration
        let after = try DomainConfiguration.load(directory: folder, environment: [:])
        let newTopics = TopicLayout(names: fixture.names, regions: after.regions, inputPartitions: 1, inboxPartitions: 1).topics
            .filter { $0.name.contains(Self.movedCounty) }
        try WeeklyFixture.cluster.createTopics(newTopics.map { ($0.name, $0.partitions) })

        // A week (intake 2026-W49) routed by the fleet with the old rules.
        let reports: [(id: String, insured: String, code: String)] = [
            ("C-1", "210700", "BZ-3012"),  // unchanged
            ("C-2", "210700", Self.recodedFailure),  // category changes, stays with 210700
            ("C-3", Self.movedCounty, "BZ-3012"),  // owner 210700 → 210781
            ("C-4", "410100", "BZ-3012"),  // unchanged
            ("C-5", "410100", Self.recodedFailure),  // category changes in another province
            ("C-6", "999999", "BZ-3012"),  // UNKNOWN_REGION under both rules
            ("C-7", "210100", "BZ-3012"),  // unchanged, same province as the moved report
        ]
        let lines = reports.enumerated().map { index, report in
            Self.report(report.id, insured: report.insured, code: report.code, receivedAt: "2026-11-2\(4 + index % 3)T10:00:00+08:00")
        }
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(["bootstrap.servers": fixture.brokers, "linger.ms": "1"]),
            logger: TestLogging.logger)
        try await producer.send(
            lines.enumerated().map { index, line in
                let receivedAt = Timestamp.parseRFC3339("2026-11-2\(4 + index % 3)T10:00:00+08:00")!
                return ProducerRecord(
                    topic: fixture.names.failures, partition: 0, value: line, timestampMs: receivedAt.millisecondsSinceEpoch)
            })
        await producer.close()
        let fleet = RouterHarness(configuration: before)
        try await fleet.route(
            cluster: WeeklyFixture.cluster, workers: [fleet.makeWorker(cluster: WeeklyFixture.cluster, group: "corrections-fleet")],
            group: "corrections-fleet", inputPartitions: 1)

        // What the new rules change, by the routing engines themselves (the test's premise).
        func routing(_ line: [UInt8], _ configuration: DomainConfiguration) -> (owner: String, category: Category)? {
            guard
                case .routed(let routed) = RoutingEngine(configuration: configuration)
                    .route(line, receivedAt: Timestamp.parseRFC3339("2026-11-24T10:00:00+08:00")!)
            else { return nil }
            return (routed.owner.code, routed.classification.category)
        }
        let changed = zip(reports, lines).filter { routing($1, before).map { "\($0)" } != routing($1, after).map { "\($0)" } }.map(\.0.id)
        try #require(changed == ["C-2", "C-3", "C-5"], "the changed rules change C-2, C-3, C-5: \(changed)")
        #expect(routing(lines[2], before)?.owner == "210700" && routing(lines[2], after)?.owner == Self.movedCounty)
        #expect(routing(lines[5], before) == nil && routing(lines[5], after) == nil)

        // The week's batches, emitted after the deadline; the former owner resolved C-3 before the replay.
        try await fixture.resolve("C-3", agency: "210700", recordedAt: "2026-12-02T10:00:00+08:00")
        let clock = ManualClock("2026-12-04T16:02:00+08:00")
        let scheduler = fixture.scheduler(clock: clock)
        let first = try await scheduler.tick()
        #expect(first.emitted.count == before.regions.regions.count + before.regions.provinces.count)
        let emittedBefore = try await fixture.operations.snapshot().markers

        // The preview (captured for the closing note), then the replay with the new rules.
        let previewText = try await preview(fixture, folder: folder)
        print("---- baocuo replay preview ----\n\(previewText)---- end of preview ----")
        #expect(previewText.contains(try Regex("\n  changes +3  ")), "\(previewText)")
        #expect(previewText.contains(try Regex("\n  still rejected +1  ")), "\(previewText)")
        #expect(previewText.contains(before.classifier.rulesVersion) && previewText.contains(after.classifier.rulesVersion))
        #expect(!previewText.contains("no earlier"), "dead letters are compared with the DLQ: \(previewText)")
        let jsonLines = try await preview(fixture, folder: folder, json: true).split(separator: "\n")
        #expect(jsonLines.count == 3, "one JSON line per changed record: \(jsonLines)")

        let executed = try await replay(fixture, configuration: after, execute: true)
        #expect(executed.changes == 3 && executed.categoryChanged == 2 && executed.ownerChanged == 1, "\(executed)")
        #expect(executed.unchanged == 3 && executed.stillRejected == 1 && executed.withdrawals == 1, "\(executed)")
        let affected: Set<String> = [
            "intake-210700-2026-W49", "intake-\(Self.movedCounty)-2026-W49", "intake-410100-2026-W49",
            "return-210000-2026-W49", "return-410000-2026-W49",
        ]
        #expect(executed.batchesToReEmit == affected)
        // Owner copies of C-2, C-3, C-5 (no cc: their categories are the insured agency's) and one withdrawal.
        #expect(executed.outputsProduced == 4, "\(executed)")

        // The former owner's inbox has the withdrawal, exactly as CONTRACT §3 has it.
        let formerInbox = try await fixture.readAll { $0 == fixture.names.inbox(region: "210700") }
        let withdrawals = formerInbox.compactMap { WithdrawnRecord($0.value) }
        #expect(withdrawals.count == 1)
        let withdrawn = try #require(withdrawals.first)
        #expect(withdrawn.reportId == "C-3" && withdrawn.formerOwner == "210700" && withdrawn.newOwner == Self.movedCounty)
        #expect(withdrawn.category == "FILING_MISSING")
        #expect(
            withdrawn.rulesVersionBefore == before.classifier.rulesVersion && withdrawn.rulesVersionAfter == after.classifier.rulesVersion)
        #expect(withdrawn.withdrawnAt.hasSuffix("+08:00") && withdrawn.replayId.hasPrefix("replay-"))
        #expect(formerInbox.first { WithdrawnRecord($0.value) != nil }?.keyString == "C-3")
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(withdrawn.bytes)) as? [String: Any]).keys
        #expect(
            Set(keys) == [
                "schema", "reportId", "formerOwner", "newOwner", "category", "rulesVersionBefore",
                "rulesVersionAfter", "replayId", "withdrawnAt",
            ])

        // `batch status` sees the emitted batches as outdated until the next tick.
        let status = try fixture.operations.status(
            week: IsoWeek("2026-W49")!, snapshot: await fixture.operations.snapshot(), now: clock.now())
        #expect(Set(status.intake.outdated) == ["intake-210700-2026-W49", "intake-410100-2026-W49"])
        #expect(Set(status.returns.outdated) == ["return-210000-2026-W49", "return-410000-2026-W49"])

        // The fleet reloads the new rules; its next tick emits new revisions of exactly the affected batches.
        scheduler.reload(configuration: after)
        let second = try await scheduler.tick()
        #expect(Set(second.emitted.map(\.batchId)) == affected, "\(second.emitted.map(\.batchId))")
        for marker in second.emitted {
            let expected = marker.batchId == "intake-\(Self.movedCounty)-2026-W49" ? 1 : 2  // the new region's first batch
            #expect(marker.revision == expected, "\(marker.batchId) revision \(marker.revision)")
        }
        let emittedAfter = try await fixture.operations.snapshot().markers
        for (batchId, marker) in emittedBefore where !affected.contains(batchId) {
            #expect(
                emittedAfter[batchId]?.digest == marker.digest && emittedAfter[batchId]?.revision == marker.revision,
                "\(batchId) is unaffected")
        }

        let intake = try await fixture.consumerView(.intake)
        let formerBatch = try #require(intake.batches["intake-210700-2026-W49"])
        #expect(Set(formerBatch.items.keys) == ["C-1", "C-2"] && formerBatch.isComplete, "C-3 left the former owner's batch")
        #expect(formerBatch.items["C-2"]?["category"] as? String == "INSURED_STATUS")
        let newBatch = try #require(intake.batches["intake-\(Self.movedCounty)-2026-W49"])
        #expect(Set(newBatch.items.keys) == ["C-3"] && newBatch.isComplete, "C-3 joined the new owner's batch")
        let returns = try await fixture.consumerView(.return)
        let liaoning = try #require(returns.batches["return-210000-2026-W49"])
        #expect(Set(liaoning.items.keys) == ["C-1", "C-2", "C-3", "C-7"])
        #expect(liaoning.items["C-3"]?["region"] as? String == Self.movedCounty)
        #expect(
            liaoning.outcome("C-3") == "RESETTLED" && liaoning.items["C-3"]?["agency"] as? String == "210700",
            "the former owner's resolution recorded before the withdrawal stays in the return's history")

        // A resolution from the former owner after the withdrawal is refused, naming the new owner.
        let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000) + 1000)
        try await fixture.resolve("C-3", agency: "210700", outcome: "REJECTED", recordedAt: now.rfc3339(utcOffsetSeconds: 8 * 3600))
        let third = try await scheduler.tick()
        #expect(third.emitted.isEmpty, "a refused resolution changes no batch")
        #expect(third.deadLettered == 1)
        let refusals = try await fixture.readAll { $0 == fixture.names.resolutionsDLQ }
        let refusal = try #require(refusals.last)
        #expect(refusal.header(DeadLetterHeader.errorCode) == "FORBIDDEN_AGENCY")
        #expect(
            refusal.header(DeadLetterHeader.errorDetail)?.contains("now belongs to \(Self.movedCounty)") == true,
            "\(refusal.header(DeadLetterHeader.errorDetail) ?? "")")

        // The same replay again (the checkpoint says done; started over, it finds nothing to change).
        let resumed = try await replay(fixture, configuration: after, execute: true)
        #expect(resumed.selected == 0 && resumed.outputsProduced == 0)
        let again = try await replay(fixture, configuration: after, execute: true, restart: true)
        #expect(again.selected == 7 && again.changes == 0 && again.outputsProduced == 0 && again.withdrawals == 0, "\(again)")
        #expect(again.batchesToReEmit.isEmpty)
        #expect(try await scheduler.tick().emitted.isEmpty, "no new revision after an identical replay")

        // The ledger still accounts for every input: the standing decisions are the new rules'.
        let inputs = try await fixture.readAll { $0 == fixture.names.failures }
        let outputs = try await fixture.readAll { name in
            name.hasPrefix(Self.prefix) && (name.hasSuffix(".inbox") || name == fixture.names.ops || name == fixture.names.failuresDLQ)
        }
        let ledger = Ledger(router: RecordRouter(configuration: after, group: "corrections-fleet")).check(inputs: inputs, outputs: outputs)
        #expect(ledger.isExact, "\(ledger)")
        #expect(ledger.inputs == 7 && ledger.superseded == 3 && ledger.withdrawals == 1 && ledger.deadLetters == 1, "\(ledger)")
    }
}
