import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The fleet on a second broker implementation: tansu 0.6 (memory storage) on 127.0.0.1, one broker
/// started and stopped for the whole suite (`TansuBroker.Scope`). Runs in scripts/test.sh's
/// librdkafka 2.16 run (`BAOCUO_TANSU` set); on 2.0.2, which cannot talk to tansu, the suite is
/// skipped with the reason printed, or fails when `BAOCUO_TANSU` asks for it there.
@Suite(.serialized, .enabled(if: TansuBroker.suiteRuns, Comment(rawValue: TansuBroker.skipReason)), TansuBroker.Scope())
struct TansuBrokerTests {
    static let inputPartitions = 4
    static let baseMs: Int64 = 1_795_000_000_000

    static let workerEnvironment = [
        "BAOCUO_KAFKA_PROPERTY_SESSION_TIMEOUT_MS": "6000",
        "BAOCUO_KAFKA_PROPERTY_HEARTBEAT_INTERVAL_MS": "500",
        "BAOCUO_LOGGING_LEVEL": "info",
    ].merging(FleetReport.strategyEnvironment) { _, chosen in chosen }

    /// tansu 0.6 answers ListOffsets(latest) with the last record batch's base offset + 1; with one
    /// record per produced batch that is the partition's end. The weekly scheduler and the replay
    /// planner read up to those watermarks, so their tests here produce that way (docs/RELIABILITY.md,
    /// "What tansu 0.6 lacks").
    static let oneRecordPerBatch = ["batch.num.messages": "1"]

    func broker() throws -> TansuBroker {
        try #require(TansuBroker.current, "the suite's tansu broker (TansuBroker.Scope)")
    }

    /// Creates `folder`'s topic layout through librdkafka's CreateTopics, configs included, and
    /// checks that every topic exists. Returns how long the creation took.
    @discardableResult
    func createTopics(_ folder: TestConfigFolder, inputPartitions: Int) async throws -> Duration {
        let tansu = try broker()
        let layout = TopicLayout(
            names: TopicNames(prefix: folder.prefix), regions: try folder.load().regions, inputPartitions: inputPartitions)
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": tansu.brokers]), logger: TestLogging.logger)
        let creating = ContinuousClock.now
        let failures = try await admin.createTopics(
            layout.topics.map { topic in
                KafkaAdmin.NewTopic(
                    name: topic.name, partitions: topic.partitions, replicationFactor: 1,
                    configs: topic.configs.map { config in
                        let pair = config.split(separator: "=", maxSplits: 1)
                        return (String(pair[0]), String(pair[1]))
                    })
            }
        ).compactMapValues { $0 }
        let created = ContinuousClock.now - creating
        #expect(failures.isEmpty, "every topic created: \(failures)")
        let reader = TopicReader(brokers: tansu.brokers, logger: TestLogging.logger, untilPartitionEnd: true)
        let existing = Set(try await reader.topics { $0.hasPrefix(folder.prefix) }.map(\.name))
        #expect(existing == Set(layout.topics.map(\.name)), "every topic of the layout exists")
        return created
    }

    /// `baocuo run` on the suite's broker with `folder`'s configuration.
    func startWorker(
        _ name: String, folder: TestConfigFolder, group: String, arguments: [String] = [],
        kafkaProperties: [String: String] = [:]
    ) throws -> ChildProcess {
        var environment = Self.workerEnvironment.merging(["BAOCUO_CONFIG_DIR": folder.path]) { _, new in new }
        for (key, value) in kafkaProperties {
            environment["BAOCUO_KAFKA_PROPERTY_" + key.uppercased().replacingOccurrences(of: ".", with: "_")] = value
        }
        return try ChildProcess(
            ["run", "--brokers", try broker().brokers, "--group", group, "--http-port", "0"] + arguments,
            environment: environment, name: name)
    }

    /// Waits until `group` has committed every record of `topic`, up to each partition's end as the
    /// broker's fetch reports it (its ListOffsets watermark can be lower, see
    /// `TopicReader.untilPartitionEnd`); returns the topic's records.
    @discardableResult
    func waitUntilCommittedEverything(
        group: String, topic: String, partitions: Int,
        timeout: Duration = .seconds(120)
    ) async throws -> [StoredRecord] {
        let brokers = try broker().brokers
        let reader = TopicReader(brokers: brokers, logger: TestLogging.logger, untilPartitionEnd: true)
        let inputs = try await reader.readAll(try await reader.topics { $0 == topic })
        let ends = Dictionary(inputs.map { ($0.partition, $0.offset + 1) }, uniquingKeysWith: max)
        let all = (0..<Int32(partitions)).map { $0 }
        // tansu holds a group's first JoinGroup for about 20 s.
        try await waitUntil(timeout: timeout, "\(group) committed every record of \(topic)") {
            let committed = try await Committed.offsets(group: group, topic: topic, partitions: all, brokers: brokers)
            return ends.allSatisfy { committed[$0.key, default: -1] >= $0.value }
        }
        return inputs
    }

    /// Topics through the Admin API; 2,000 reports routed by two `baocuo run` processes, one of them
    /// SIGKILLed mid-stream and restarted; the ledger check over every output topic; then
    /// `baocuo replay --since/--until`, which finds that tansu's offsets-for-times is no real lookup
    /// and scans.
    @Test func routesEveryReportThroughAWorkerSigkillAndRestartThenReplaysByTime() async throws {
        let tansu = try broker()
        let folder = try TestConfigFolder(prefix: "tansu.", regions: SampleRegions.pooling)
        defer { folder.remove() }
        let configuration = try folder.load()
        let names = TopicNames(prefix: folder.prefix)
        let created = try await createTopics(folder, inputPartitions: Self.inputPartitions)
        print(
            "tansu: \(TopicLayout(names: names, regions: configuration.regions, inputPartitions: Self.inputPartitions).topics.count) topics created through the Admin API in \(created)"
        )

        // Two workers, reports arriving in chunks; one worker SIGKILLed once the group has committed
        // some of them, and started again.
        let group = "tansu-fleet"
        let lines = SampleReports.generate(count: 2_000, tag: "-tansu")
        try await SampleReports.load(Array(lines[..<500]), topic: names.failures, brokers: tansu.brokers, baseMs: Self.baseMs)
        var workers = try (0..<2).map { try startWorker("tansu-worker-\($0)", folder: folder, group: group) }
        let partitions = (0..<Int32(Self.inputPartitions)).map { $0 }
        // tansu holds a group's first JoinGroup for about 20 s.
        try await waitUntil(timeout: .seconds(90), "the group committed 100 records") {
            try await Committed.offsets(group: group, topic: names.failures, partitions: partitions, brokers: tansu.brokers).values.reduce(
                0, +) >= 100
        }
        workers[0].signal(SIGKILL)
        #expect(await workers[0].waitForExit(timeout: .seconds(5)) != nil)
        let loading = Task {
            for chunk in stride(from: 500, to: lines.count, by: 250) {
                try await SampleReports.load(
                    Array(lines[chunk..<min(chunk + 250, lines.count)]), topic: names.failures,
                    brokers: tansu.brokers, baseMs: Self.baseMs + Int64(chunk))
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        workers[0] = try startWorker("tansu-worker-restarted", folder: folder, group: group)
        try await loading.value

        let inputs = try await waitUntilCommittedEverything(group: group, topic: names.failures, partitions: Self.inputPartitions)
        #expect(inputs.count == lines.count)
        let ends = Dictionary(inputs.map { ($0.partition, $0.offset + 1) }, uniquingKeysWith: max)
        for worker in workers { await stop(worker) }

        let result = try await ledger(configuration, group: group, inputs: inputs)
        #expect(result.hasNoLoss, "\(result)")
        FleetReport.record(
            "tansu: worker SIGKILL and restart", result,
            injected: "tansu 0.6 broker; 2 processes, one SIGKILLed after 100 commits and restarted")

        // What tansu's ListOffsets answers, against the partition ends its fetches report.
        let probe = try KafkaConsumer(
            configuration: KafkaConfiguration(["bootstrap.servers": tansu.brokers, "group.id": "tansu-probe"]),
            assignment: [], logger: TestLogging.logger)
        for partition in partitions {
            let marks = try await probe.watermarks(topic: names.failures, partition: partition)
            print("tansu: \(names.failures)[\(partition)] ListOffsets high watermark \(marks.high), end by fetch \(ends[partition] ?? 0)")
            #expect(marks.high <= (ends[partition] ?? 0))
        }
        await probe.close()

        // replay --since/--until: reports 100..<300 were received in [base + 100 ms, base + 300 ms).
        let since = Timestamp(millisecondsSinceEpoch: Self.baseMs + 100).rfc3339(utcOffsetSeconds: 28_800)
        let until = Timestamp(millisecondsSinceEpoch: Self.baseMs + 300).rfc3339(utcOffsetSeconds: 28_800)
        let replay = try ChildProcess(
            ["replay", "--brokers", tansu.brokers, "--since", since, "--until", until, "--group", "tansu-replay"],
            environment: ["BAOCUO_CONFIG_DIR": folder.path], name: "tansu-replay")
        let output = replay.standardOutput()
        #expect(await replay.waitForExit(timeout: .seconds(60)) == 0, "\(replay.log.suffix(1500))")
        print("tansu: baocuo replay --since \(since) --until \(until)\n\(output)")
        #expect(output.contains("scanning whole partitions"), "tansu answers the first offset for every time: the scan is chosen")
        let selected = output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("selected") }
        #expect(selected.map { $0.split(separator: " ").dropFirst().first == "200" } == true, "\(output)")
    }

    /// Scaling out from 2 to 3 workers mid-stream on tansu: the rebalance row of the fault matrix on
    /// a broker that is not librdkafka's mock (which refuses the commits on revoke during a join).
    @Test func scalingOutFromTwoToThreeWorkersLosesNothing() async throws {
        let tansu = try broker()
        let folder = try TestConfigFolder(prefix: "tansu-scale.", regions: SampleRegions.pooling)
        defer { folder.remove() }
        let names = TopicNames(prefix: folder.prefix)
        let partitions = 6
        try await createTopics(folder, inputPartitions: partitions)
        let group = "tansu-scale-out"
        let lines = SampleReports.generate(count: 6_000, tag: "-tansu-scale")
        try await SampleReports.load(Array(lines[..<1_000]), topic: names.failures, brokers: tansu.brokers, baseMs: Self.baseMs)
        var workers = try (0..<2).map { try startWorker("tansu-scale-\($0)", folder: folder, group: group) }
        let all = (0..<Int32(partitions)).map { $0 }
        try await waitUntil(timeout: .seconds(90), "the group committed 500 records") {
            try await Committed.offsets(group: group, topic: names.failures, partitions: all, brokers: tansu.brokers).values.reduce(0, +)
                >= 500
        }
        // The rest arrives while the third worker joins (500 every 250 ms).
        let loading = Task {
            for chunk in stride(from: 1_000, to: lines.count, by: 500) {
                try await SampleReports.load(
                    Array(lines[chunk..<min(chunk + 500, lines.count)]), topic: names.failures,
                    brokers: tansu.brokers, baseMs: Self.baseMs + Int64(chunk))
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        workers.append(try startWorker("tansu-scale-2", folder: folder, group: group))
        try await loading.value
        let lastAction = ContinuousClock.now
        let inputs = try await waitUntilCommittedEverything(group: group, topic: names.failures, partitions: partitions)
        let recovery = ContinuousClock.now - lastAction
        #expect(inputs.count == lines.count)
        for worker in workers { await stop(worker) }
        let result = try await ledger(try folder.load(), group: group, inputs: inputs)
        #expect(result.hasNoLoss, "\(result)")
        FleetReport.record(
            "tansu: scale-out 2 → 3 workers", result, injected: "tansu 0.6 broker; 2 processes, a third started after 500 commits",
            recoverySeconds: Double(recovery.components.seconds) + Double(recovery.components.attoseconds) / 1e18)
    }

    /// The weekly scheduler of `baocuo run` on tansu: reports of the last 16 days in the inboxes, and
    /// one worker emits every due intake and return batch of the look-back window exactly once (by
    /// its own counter and on the topics); then a restarted worker emits none of them again.
    @Test func emitsEachWeeklyBatchOnceAndARestartedWorkerEmitsNoneAgain() async throws {
        let tansu = try broker()
        let folder = try TestConfigFolder(prefix: "tansu-weekly.", regions: SampleRegions.pooling)
        defer { folder.remove() }
        let configuration = try folder.load()
        try await createTopics(folder, inputPartitions: 1)
        let fixture = WeeklyFixture(
            configuration: configuration, brokers: tansu.brokers,
            kafkaProperties: Self.oneRecordPerBatch, untilPartitionEnd: true)

        // 48 reports over the last 16 days for five owners, routed by the router's code.
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let span: Int64 = 16 * 86_400_000
        let utcOffset = configuration.settings.schedule.utcOffsetSeconds
        let owners = Array(SampleRegions.pooling.sorted().prefix(5))
        let reports = (0..<48).map { index in
            (
                id: "TW-\(index)", insured: owners[index % owners.count],
                receivedAt: Timestamp(millisecondsSinceEpoch: nowMs - span + Int64(index) * span / 48).rfc3339(utcOffsetSeconds: utcOffset)
            )
        }
        try await fixture.route(reports)
        let startWeek = IsoWeek(containing: Timestamp(millisecondsSinceEpoch: nowMs - span).civilDate(utcOffsetSeconds: utcOffset))
        let arguments = ["--scheduler-tick-seconds", "1", "--look-back-weeks", "2", "--start-week", "\(startWeek)"]
        let group = "tansu-weekly"

        // What is due now, as the scheduler sees it (its default 60 s settle delay included).
        let due = BatchSchedule(calendar: configuration.calendar, lookBackWeeks: 2)
            .dueCycles(at: Timestamp(millisecondsSinceEpoch: nowMs)).filter { $0.cycle.week >= startWeek }
        let expected = (
            intake: due.count * configuration.regions.regions.count,
            returns: due.filter(\.returnDue).count * configuration.regions.provinces.count
        )
        try #require(expected.intake > 0 && expected.returns > 0, "due cycles: \(due.map(\.cycle.week))")
        let operations = WeeklyOperations(configuration: configuration, brokers: tansu.brokers, logger: TestLogging.logger)
        func incomplete() async throws -> [String] {
            let snapshot = try await fixture.snapshot()
            let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
            return try due.flatMap { cycle in
                let status = try operations.status(week: cycle.cycle.week, snapshot: snapshot, now: now)
                return status.intake.missing + status.intake.outdated
                    + (cycle.returnDue ? status.returns.missing + status.returns.outdated : [])
            }
        }

        let first = try startWorker(
            "tansu-weekly-a", folder: folder, group: group, arguments: arguments,
            kafkaProperties: Self.oneRecordPerBatch)
        try await waitUntil(timeout: .seconds(120), "every due batch emitted") { try await incomplete().isEmpty }
        // Two more ticks after the last emission: a worker that misread its markers would emit again.
        let firstCounts = try await schedulerCounts(first, ticksAfter: Date().timeIntervalSince1970 + 1)
        #expect(
            firstCounts.intake == Double(expected.intake) && firstCounts.returns == Double(expected.returns),
            "each due batch emitted once by the worker: \(firstCounts), expected \(expected)")
        let emitted = try await batchRecords(fixture)
        #expect(emitted.batches.count == expected.intake + expected.returns, "\(emitted.batches.count) batch ids")
        for (batchId, batch) in emitted.batches {
            #expect(batch.revision == 1 && batch.distinctManifests == 1 && batch.isComplete, "\(batchId): \(batch.revision)")
            #expect(batch.records == batch.itemCount + 1, "\(batchId) written once: \(batch.records) records for \(batch.itemCount) items")
        }
        // Every report of a due intake is in its owner's intake batch of that week, and in no other.
        let intakeItems = emitted.batches.filter { $0.key.hasPrefix("intake-") }.flatMap { $0.value.items.keys }
        let dueWeeks = Set(due.map(\.cycle.week))
        let dueReports = reports.filter {
            dueWeeks.contains(configuration.calendar.cycle(receivedAt: Timestamp.parseRFC3339($0.receivedAt)!).week)
        }
        #expect(intakeItems.sorted() == dueReports.map(\.id).sorted(), "\(intakeItems.count) items for \(dueReports.count) due reports")
        await stop(first)

        // A restarted worker reads the markers and emits nothing.
        let second = try startWorker(
            "tansu-weekly-b", folder: folder, group: group, arguments: arguments,
            kafkaProperties: Self.oneRecordPerBatch)
        let secondCounts = try await schedulerCounts(second, ticksAfter: Date().timeIntervalSince1970)
        #expect(secondCounts.intake == 0 && secondCounts.returns == 0, "a restarted worker emits nothing: \(secondCounts)")
        #expect(try await batchRecords(fixture).records == emitted.records, "the batch topics are unchanged after the restart")
        await stop(second)
        print(
            "tansu: weekly batches of \(due.map(\.cycle.week.description).joined(separator: ", ")): \(expected.intake) intake and \(expected.returns) return batches emitted once, none again after a restart"
        )
    }

    /// The dead-letter re-drive of `ReplayTests` on tansu: routed by a `baocuo run` worker whose
    /// region table lacks a region, re-driven from the DLQ with the table fixed.
    @Test func redrivesTheDeadLetterQueueAfterTheRegionTableIsFixed() async throws {
        let tansu = try broker()
        let prefix = "tansu-redrive."
        try await DeadLetterRedrive(
            brokers: tansu.brokers, prefix: prefix, untilPartitionEnd: true,
            kafkaProperties: Self.oneRecordPerBatch,
            createTopics: { full in
                try await createTopics(full, inputPartitions: 1)
            },
            route: { lacking in
                let group = prefix + "fleet"
                let worker = try startWorker(
                    "tansu-redrive-worker", folder: lacking, group: group, arguments: ["--no-scheduler"],
                    kafkaProperties: Self.oneRecordPerBatch)
                try await waitUntilCommittedEverything(group: group, topic: TopicNames(prefix: prefix).failures, partitions: 1)
                await stop(worker)
            }
        ).run()
    }

    /// The ledger check of `inputs` against every output topic of `configuration`.
    func ledger(_ configuration: DomainConfiguration, group: String, inputs: [StoredRecord]) async throws -> Ledger.Result {
        let names = TopicNames(prefix: configuration.settings.topicPrefix)
        let reader = TopicReader(brokers: try broker().brokers, logger: TestLogging.logger, untilPartitionEnd: true)
        let outputs = try await reader.readAll(
            try await reader.topics { name in
                name.hasPrefix(names.prefix) && (name.hasSuffix(".inbox") || name == names.ops || name == names.failuresDLQ)
            })
        return Ledger(router: RecordRouter(configuration: configuration, group: group)).check(inputs: inputs, outputs: outputs)
    }

    /// SIGTERM once the worker runs (before its handlers are installed SIGTERM would kill it), and a clean exit.
    func stop(_ worker: ChildProcess) async {
        await worker.waitForLog("router starting", timeout: .seconds(20))
        worker.signal(SIGTERM)
        let status = await worker.waitForExit(timeout: .seconds(15))
        #expect(status == 0, "a worker stops cleanly on tansu: \(worker.log.suffix(1500))")
    }

    /// The worker's `baocuo_batches_emitted_total` per kind, read once its scheduler has completed
    /// two ticks that started after `ticksAfter` (Unix seconds).
    func schedulerCounts(_ worker: ChildProcess, ticksAfter: Double) async throws -> (intake: Double, returns: Double) {
        var port: Int?
        try await waitUntil(timeout: .seconds(30), "the worker's endpoint listens") {
            let line = worker.log.split(separator: "\n").first { $0.contains("observability endpoint listening") }
            port = line?.split(separator: " ").last { $0.hasPrefix("address=") }.flatMap {
                Int($0.split(separator: ":").last!.filter(\.isNumber))
            }
            return port != nil
        }
        var text = ""
        try await waitUntil(timeout: .seconds(60), "two scheduler ticks") {
            text = try await HTTPGet.fetch(port: port!, path: "/metrics").body
            return (TestMetrics.value(of: PipelineMetricNames.schedulerLastTick, in: text) ?? 0) >= ticksAfter + 1
        }
        func emitted(_ kind: String) -> Double {
            TestMetrics.value(of: #"\#(PipelineMetricNames.batchesEmitted){kind="\#(kind)"}"#, in: text) ?? -1
        }
        return (emitted("intake"), emitted("return"))
    }

    /// The intake and return topics of the fixture, read whole: the consumer's view, and the count of records.
    func batchRecords(_ fixture: WeeklyFixture) async throws -> (batches: [String: BatchConsumerView.Batch], records: Int) {
        let records = try await fixture.readAll {
            $0.hasPrefix(fixture.names.prefix) && ($0.hasSuffix(".intake") || $0.hasSuffix(".returns"))
        }
        return (BatchConsumerView(records).batches, records.count)
    }

    func waitUntil(timeout: Duration, _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out: \(what)")
        throw HTTPGet.Failure(description: "timed out: \(what)")
    }
}
