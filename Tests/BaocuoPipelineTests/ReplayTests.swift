import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `baocuo replay` on one mock cluster shared by the suite (topics under the prefix `replay.` for the
/// regions of the samples). Each test loads its own tagged reports into its own partition.
@Suite(.serialized)
struct ReplayTests {
    /// The suite's cluster and configuration, set up once.
    struct Environment: Sendable {
        let cluster: MockCluster
        let folder: TestConfigFolder
        let configuration: DomainConfiguration
        var names: TopicNames { TopicNames(prefix: folder.prefix) }
        var brokers: String { cluster.bootstrapServers }
        static let inputPartitions = 4
    }

    static let shared: Task<Environment, Error> = Task {
        let cluster = try MockCluster(brokers: 1, logger: TestLogging.logger)
        let folder = try TestConfigFolder(prefix: "replay.", regions: SampleRegions.pooling)
        try folder.createTopics(on: cluster, inputPartitions: Environment.inputPartitions)
        return Environment(cluster: cluster, folder: folder, configuration: try folder.load())
    }

    /// Loads `lines` into `partition`, routes them with the fleet's rules, and returns their offsets.
    func loadAndRoute(_ lines: [[UInt8]], partition: Int32, in environment: Environment, baseMs: Int64 = 1_795_000_000_000) async throws
        -> Range<Int64>
    {
        let before = try await highWatermark(environment.names.failures, partition: partition, environment)
        try await SampleReports.load(
            lines, topic: environment.names.failures, partition: partition, brokers: environment.brokers, baseMs: baseMs)
        let fleet = RouterHarness(configuration: environment.configuration)
        try await fleet.route(
            cluster: environment.cluster, workers: [fleet.makeWorker(cluster: environment.cluster, group: "replay-suite-fleet")],
            group: "replay-suite-fleet", inputPartitions: Environment.inputPartitions)
        return before..<(before + Int64(lines.count))
    }

    func highWatermark(_ topic: String, partition: Int32, _ environment: Environment) async throws -> Int64 {
        let consumer = try KafkaConsumer(
            configuration: KafkaConfiguration(["bootstrap.servers": environment.brokers, "group.id": "replay-test-probe"]), assignment: [],
            logger: TestLogging.logger)
        let marks = try await consumer.watermarks(topic: topic, partition: partition)
        await consumer.close()
        return marks.high
    }

    /// Records in every output topic (inboxes, ops, DLQ), to see that a preview produced nothing.
    func outputCount(_ environment: Environment) async throws -> Int {
        let reader = TopicReader(brokers: environment.brokers, logger: TestLogging.logger)
        let topics = try await reader.topics { $0.hasPrefix(environment.folder.prefix) && $0 != environment.names.failures }
        var count = 0
        try await reader.forEachRecord(in: topics) { _ in count += 1 }
        return count
    }

    func replayOutputs(runID: String, _ environment: Environment) async throws -> [StoredRecord] {
        let reader = TopicReader(brokers: environment.brokers, logger: TestLogging.logger)
        let topics = try await reader.topics { $0.hasPrefix(environment.folder.prefix) && $0 != environment.names.failures }
        return try await reader.readAll(topics).filter { $0.header(ReplayHeader.id) == runID }
    }

    func options(
        _ environment: Environment, group: String, selection: ReplaySelection, execute: Bool,
        topic: String? = nil
    ) -> ReplayOptions {
        ReplayOptions(
            brokers: environment.brokers, sourceTopic: topic ?? environment.names.failures, group: group,
            selection: selection, execute: execute, pollBatchSize: 7, commitInterval: .milliseconds(100))
    }

    func replay(
        _ options: ReplayOptions, configuration: DomainConfiguration,
        offsetsForTimes: ReplayPlan.OffsetsForTimes? = nil
    ) async throws -> (ReplayPlan, ReplaySummary, [ReplayedRecord]) {
        try await runReplay(options, configuration: configuration, offsetsForTimes: offsetsForTimes)
    }

    @Test func previewProducesNothingAndExecuteReplaysTheRangeWithProvenance() async throws {
        let environment = try await Self.shared.value
        let lines = SampleReports.generate(count: 30, tag: "-offsets")
        let range = try await loadAndRoute(lines, partition: 0, in: environment)
        let malformed = lines.filter { !SampleRegions.routes($0, environment.configuration) }.count
        let selection = ReplaySelection(range: .offsets(partition: 0, start: range.lowerBound, end: range.upperBound))
        let group = "replay-offsets"
        let outputsBefore = try await outputCount(environment)

        let (plan, preview, records) = try await replay(
            options(environment, group: group, selection: selection, execute: false),
            configuration: environment.configuration)
        #expect(
            plan.partitions == [
                ReplayPlan.PartitionRange(partition: 0, start: range.lowerBound, end: range.upperBound, from: range.lowerBound)
            ])
        #expect(preview.scanned == 30 && preview.selected == 30)
        // The rules did not change: every routed report matches its earlier owner copy, every
        // rejected one its dead letter.
        #expect(preview.unchanged == 30 - malformed, "\(preview)")
        #expect(preview.changes == 0 && preview.batchesToReEmit.isEmpty, "\(preview)")
        #expect(preview.rejected == malformed && preview.stillRejected == malformed, "\(preview)")
        #expect(records.count == 30)
        #expect(preview.outputsProduced == 0)
        #expect(try await outputCount(environment) == outputsBefore, "a preview produces nothing")
        #expect(
            try await Committed.offsets(group: group, topic: environment.names.failures, partitions: [0], brokers: environment.brokers)
                .isEmpty,
            "a preview commits nothing")

        // Executed with the same rules, nothing changes, so nothing is written.
        let (_, unchanged, _) = try await replay(
            options(environment, group: group, selection: selection, execute: true),
            configuration: environment.configuration)
        #expect(unchanged.changes == 0 && unchanged.outputsProduced == 0, "\(unchanged)")
        #expect(try await outputCount(environment) == outputsBefore, "only changes are written")

        // `--all` re-emits every record, over again (`--restart`: the checkpoint says done).
        var executeOptions = options(environment, group: group, selection: selection, execute: true)
        executeOptions.reEmitAll = true
        executeOptions.restart = true
        let (_, executed, _) = try await replay(executeOptions, configuration: environment.configuration)
        #expect(executed.unchanged == preview.unchanged && executed.routed == preview.routed && executed.rejected == malformed)
        let outputs = try await replayOutputs(runID: executeOptions.runID, environment)
        #expect(outputs.count == executed.outputsProduced && executed.outputsProduced >= 30)
        var ownerSources: [String: Int] = [:]
        for output in outputs {
            let source = try #require(output.header(ReplayHeader.source))
            let offset = try #require(source.split(separator: "@").last.flatMap { Int64($0) })
            #expect(source.hasPrefix("\(environment.names.failures)[0]@") && range.contains(offset), "\(source)")
            let at = try #require(output.header(ReplayHeader.at))
            #expect(at.hasSuffix("+08:00") && Timestamp.parseRFC3339(at) != nil, "\(at)")
            if output.topic.hasSuffix(".inbox"), output.valueString.contains(#""role":"owner""#) { ownerSources[source, default: 0] += 1 }
        }
        #expect(ownerSources.count == 30 - malformed && ownerSources.values.allSatisfy { $0 == 1 }, "one owner copy per routed record")
        #expect(outputs.filter { $0.topic == environment.names.failuresDLQ }.count == malformed)
        let committed = try await Committed.offsets(
            group: group, topic: environment.names.failures, partitions: [0], brokers: environment.brokers)
        #expect(committed[0] == range.upperBound, "the checkpoint is the end of the range")

        // The same range again with the same group (without --restart): nothing left.
        executeOptions.restart = false
        let again = try await ReplayPlan.resolve(executeOptions, logger: TestLogging.logger)
        #expect(again.remaining == 0)
    }

    @Test func selectsByReportIdsAndByTimeAndShowsWhatTheNewRulesChange() async throws {
        let environment = try await Self.shared.value
        let lines = SampleReports.generate(count: 20, tag: "-select")
        let baseMs: Int64 = 1_796_000_000_000
        let range = try await loadAndRoute(lines, partition: 1, in: environment, baseMs: baseMs)
        let routable = lines.filter { SampleRegions.routes($0, environment.configuration) }
        let chosenLines = Array(routable.prefix(3))
        let chosen = Set(chosenLines.compactMap(SampleRegions.reportId))

        // By report ids, over the whole topic: matched on the decoded reportId (these records have no key).
        let (_, byIds, records) = try await replay(
            options(
                environment, group: "replay-ids", selection: ReplaySelection(range: .all, reportIds: chosen),
                execute: false), configuration: environment.configuration)
        #expect(byIds.selected == 3 && byIds.unchanged == 3, "\(byIds)")
        #expect(Set(records.compactMap(\.reportId)) == chosen)

        // By time: the 5th…14th record; the mock's offsetsForTimes is detected and replaced by a scan.
        let since = Timestamp(millisecondsSinceEpoch: baseMs + 5)
        let until = Timestamp(millisecondsSinceEpoch: baseMs + 15)
        let timeOptions = options(
            environment, group: "replay-time", selection: ReplaySelection(range: .time(since: since, until: until)), execute: false)
        let (plan, byTime, timed) = try await replay(timeOptions, configuration: environment.configuration)
        #expect(plan.timeLookup == .scanFallback)
        #expect(byTime.selected == 10, "\(byTime)")
        #expect(
            Set(timed.map(\.source)) == Set((range.lowerBound + 5..<range.lowerBound + 15).map { "\(environment.names.failures)[1]@\($0)" })
        )

        // New rules: the region table loses the first chosen report's insured region.
        let dropped = try #require(
            SampleRegions.insuredRegion(chosenLines[0]).flatMap { environment.configuration.regions.resolve($0)?.code })
        let fewer = try TestConfigFolder(prefix: environment.folder.prefix, regions: SampleRegions.pooling.subtracting([dropped]))
        defer { fewer.remove() }
        let fewerConfiguration = try fewer.load()
        let affected = chosenLines.filter { !SampleRegions.routes($0, fewerConfiguration) }.compactMap(SampleRegions.reportId)
        #expect(!affected.isEmpty)
        let (_, changed, changes) = try await replay(
            options(
                environment, group: "replay-ids", selection: ReplaySelection(range: .all, reportIds: chosen),
                execute: false), configuration: fewerConfiguration)
        #expect(changed.nowRejected == affected.count && changed.rejectedByCode["UNKNOWN_REGION"] == affected.count, "\(changed)")
        #expect(changes.filter { $0.verdict == .nowRejected }.compactMap(\.reportId).sorted() == affected.sorted())
    }

    /// The path the mock cannot take: a broker whose offsetsForTimes answers real offsets (Apache
    /// Kafka). The lookup here answers as Apache Kafka does, from the topic's own records (the
    /// first offset whose timestamp is at or after the time, else "end"); the plan then reads only
    /// the narrowed range, and the replay selects the same records as the scan does.
    @Test func aBrokerAnsweringOffsetsForTimesNarrowsTheRangeInsteadOfScanning() async throws {
        let environment = try await Self.shared.value
        let lines = SampleReports.generate(count: 20, tag: "-times")
        let baseMs: Int64 = 1_900_000_000_000
        let range = try await loadAndRoute(lines, partition: 3, in: environment, baseMs: baseMs)
        let reader = TopicReader(brokers: environment.brokers, logger: TestLogging.logger)
        let stored = try await reader.readAll(try await reader.topics(matching: { $0 == environment.names.failures }))
        let lookup: ReplayPlan.OffsetsForTimes = { query in
            query.map { entry in
                let first = stored.filter { $0.partition == entry.partition && ($0.timestampMs ?? -1) >= entry.offset.rawValue }.map(
                    \.offset
                ).min()
                return TopicPartitionOffset(topic: entry.topic, partition: entry.partition, offset: first.map { KafkaOffset($0) } ?? .end)
            }
        }
        let since = Timestamp(millisecondsSinceEpoch: baseMs + 5)
        let until = Timestamp(millisecondsSinceEpoch: baseMs + 15)
        let selection = ReplaySelection(range: .time(since: since, until: until))
        let (plan, summary, records) = try await replay(
            options(environment, group: "replay-times", selection: selection, execute: false),
            configuration: environment.configuration, offsetsForTimes: lookup)
        #expect(plan.timeLookup == .offsetsForTimes)
        #expect(
            plan.partitions == [
                ReplayPlan.PartitionRange(
                    partition: 3, start: range.lowerBound + 5, end: range.lowerBound + 15,
                    from: range.lowerBound + 5)
            ], "only the range is read: \(plan.partitions)")
        #expect(summary.scanned == 10 && summary.selected == 10, "\(summary)")
        #expect(
            Set(records.map(\.source))
                == Set((range.lowerBound + 5..<range.lowerBound + 15).map { "\(environment.names.failures)[3]@\($0)" }))

        // The mock's own answers choose the scan, and it selects the same records.
        let (scanPlan, scanned, scannedRecords) = try await replay(
            options(environment, group: "replay-times-scan", selection: selection, execute: false),
            configuration: environment.configuration)
        #expect(scanPlan.timeLookup == .scanFallback)
        #expect(scanned.selected == 10 && Set(scannedRecords.map(\.source)) == Set(records.map(\.source)))
    }

    /// Which broker answers count as a real lookup: judged on the answers alone.
    @Test func offsetsForTimesIsJudgedByWhatTheBrokerAnswers() {
        let partitions: [(partition: Int32, start: Int64, end: Int64)] = [(0, 10, 20), (1, 0, 0)]
        func answers(_ offsets: [KafkaOffset]) -> [TopicPartitionOffset] {
            offsets.enumerated().map { TopicPartitionOffset(topic: "t", partition: Int32($0.offset), offset: $0.element) }
        }
        let end = TopicPartitionOffset.end
        // Apache Kafka: the first record's offset at the epoch, "end" (-1) far in the future.
        #expect(
            ReplayPlan.TimeLookup.judge(partitions: partitions, atEpoch: answers([10, end]), atFarFuture: answers([end, end]))
                == .offsetsForTimes)
        // A broker answering the high watermark for a time past every record is as good.
        #expect(
            ReplayPlan.TimeLookup.judge(partitions: partitions, atEpoch: answers([12, end]), atFarFuture: answers([20, 0]))
                == .offsetsForTimes)
        // librdkafka's mock (2.0.2 and 2.16): "end" for every time.
        #expect(
            ReplayPlan.TimeLookup.judge(partitions: partitions, atEpoch: answers([end, end]), atFarFuture: answers([end, end]))
                == .scanFallback)
        // tansu 0.6: the earliest offset for every time.
        #expect(
            ReplayPlan.TimeLookup.judge(partitions: partitions, atEpoch: answers([10, 0]), atFarFuture: answers([10, 0])) == .scanFallback)
        // A partition missing from the answers, or an offset outside the partition.
        #expect(ReplayPlan.TimeLookup.judge(partitions: partitions, atEpoch: [], atFarFuture: answers([end, end])) == .scanFallback)
        #expect(
            ReplayPlan.TimeLookup.judge(partitions: partitions, atEpoch: answers([25, end]), atFarFuture: answers([end, end]))
                == .scanFallback)
        // Only empty partitions: nothing to judge, nothing to read.
        #expect(ReplayPlan.TimeLookup.judge(partitions: [(1, 0, 0)], atEpoch: [], atFarFuture: []) == .offsetsForTimes)
    }

    @Test func recordsAReplaySkipsStillMoveTheCheckpoint() {
        let tracker = OffsetTracker()
        let partition = TopicPartition(topic: "t", partition: 0)
        let routed = tracker.begin(partition, offset: 10, outputs: 2)
        _ = tracker.begin(partition, offset: 11, outputs: 0)
        #expect(tracker.takeCommittableOffsets().isEmpty, "a skipped record waits for the records before it")
        tracker.acknowledge(routed)
        tracker.acknowledge(routed)
        #expect(tracker.takeCommittableOffsets().map(\.offset) == [12])
        _ = tracker.begin(partition, offset: 12, outputs: 0)
        #expect(tracker.takeCommittableOffsets().map(\.offset) == [13], "a skipped record with nothing before it completes at once")
        #expect(tracker.inFlightRecords == 0)
    }

    @Test(arguments: ["baocuo-router", "fleet-of-this-deployment"])
    func refusesTheFleetGroup(group: String) async throws {
        // Refused before any broker is asked.
        let fleet = ReplayOptions(
            brokers: "127.0.0.1:1", sourceTopic: "yb.settlement.failures", group: group,
            fleetGroup: "fleet-of-this-deployment", selection: ReplaySelection(range: .all, reportIds: ["x"]), execute: true)
        await #expect(throws: ReplayError.self) { try await ReplayPlan.resolve(fleet, logger: TestLogging.logger) }
    }

    @Test func anInterruptedReplayResumesAndReplaysEveryRecordExactlyOnce() async throws {
        let environment = try await Self.shared.value
        let lines = SampleReports.generate(count: 40, tag: "-resume")
        let range = try await loadAndRoute(lines, partition: 2, in: environment)
        let group = "replay-resume"
        let arguments = [
            "replay", "--brokers", environment.brokers, "--partition", "2",
            "--start-offset", "\(range.lowerBound)", "--end-offset", "\(range.upperBound)", "--group", group, "--execute", "--all",
        ]
        let environmentVariables = ["BAOCUO_CONFIG_DIR": environment.folder.path, "BAOCUO_LOGGING_LEVEL": "info"]

        // At 2 records/s the 40 records take 20 s, so the interrupt lands mid-way even when the
        // checkpoint probes below are slow on a loaded machine (at 10/s a 4 s run could end first).
        let first = try ChildProcess(arguments + ["--rate", "2"], environment: environmentVariables, name: "replay-interrupted")
        // Interrupt once the checkpoint has moved into the range.
        var committed: Int64 = range.lowerBound
        let deadline = ContinuousClock.now + .seconds(15)
        while committed < range.lowerBound + 5, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            committed =
                try await Committed.offsets(group: group, topic: environment.names.failures, partitions: [2], brokers: environment.brokers)[
                    2] ?? committed
        }
        first.signal(SIGINT)
        let firstStatus = await first.waitForExit(timeout: .seconds(10))
        #expect(firstStatus == 3, "an interrupted replay exits 3 after committing: \(first.log.suffix(1500))")
        let checkpoint = try #require(
            try await Committed.offsets(group: group, topic: environment.names.failures, partitions: [2], brokers: environment.brokers)[2])
        #expect(checkpoint > range.lowerBound && checkpoint < range.upperBound, "stopped mid-way: \(checkpoint) in \(range)")

        let second = try ChildProcess(arguments, environment: environmentVariables, name: "replay-resumed")
        let secondStatus = await second.waitForExit(timeout: .seconds(60))
        #expect(secondStatus == 0, "\(second.log.suffix(1500))")
        let plan = try await ReplayPlan.resolve(
            options(
                environment, group: group,
                selection: ReplaySelection(
                    range: .offsets(partition: 2, start: range.lowerBound, end: range.upperBound)), execute: true),
            logger: TestLogging.logger)
        #expect(plan.remaining == 0)

        // Exactly once overall: one owner copy or one dead letter per source record, across both runs.
        let outputs = try await replayOutputs(runID: plan.runID, environment)
        var perSource: [String: Int] = [:]
        for output in outputs where output.topic == environment.names.failuresDLQ || output.valueString.contains(#""role":"owner""#) {
            perSource[output.header(ReplayHeader.source) ?? "?", default: 0] += 1
        }
        #expect(perSource.count == 40, "every record replayed: \(perSource.count) of 40")
        #expect(perSource.values.allSatisfy { $0 == 1 }, "no record replayed twice: \(perSource.filter { $0.value > 1 })")
        #expect(PersonIDScan.unmaskedCount(in: first.log + second.log) == 0, "a replay log holds an unmasked person ID")
    }

    @Test func redrivesTheDeadLetterQueueAfterTheRegionTableIsFixed() async throws {
        let environment = try await Self.shared.value
        try await DeadLetterRedrive(
            brokers: environment.brokers, prefix: "redrive.",
            createTopics: { full in
                try full.createTopics(on: environment.cluster, inputPartitions: 1)
            },
            route: { lacking in
                let fleet = RouterHarness(configuration: try lacking.load())
                try await fleet.route(
                    cluster: environment.cluster, workers: [fleet.makeWorker(cluster: environment.cluster, group: "redrive-fleet")],
                    group: "redrive-fleet", inputPartitions: 1)
            }
        ).run()
    }
}

/// Collects replayed records reported from the runner.
final class RecordCollector: Sendable {
    private let records = Mutex<[ReplayedRecord]>([])
    func append(_ record: ReplayedRecord) { records.withLock { $0.append(record) } }
    var all: [ReplayedRecord] { records.withLock { $0 } }
}
