import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The fleet on a second broker implementation: tansu 0.6 (memory storage) on 127.0.0.1, started
/// and stopped here. Runs in scripts/test.sh's librdkafka 2.16 run; on 2.0.2, which cannot talk to
/// tansu, the suite is skipped with the reason printed.
@Suite(.serialized, .enabled(if: TansuBroker.libraryCanTalkToIt, Comment(rawValue: TansuBroker.skipReason)))
struct TansuBrokerTests {
    static let inputPartitions = 4
    static let baseMs: Int64 = 1_795_000_000_000

    static let workerEnvironment = [
        "BAOCUO_KAFKA_PROPERTY_SESSION_TIMEOUT_MS": "6000",
        "BAOCUO_KAFKA_PROPERTY_HEARTBEAT_INTERVAL_MS": "500",
        "BAOCUO_LOGGING_LEVEL": "info",
    ]

    /// Topics through the Admin API; 2,000 reports routed by two `baocuo run` processes, one of them
    /// SIGKILLed mid-stream and restarted; the ledger check over every output topic; then
    /// `baocuo replay --since/--until`, which finds that tansu's offsets-for-times is no real lookup
    /// and scans.
    @Test func routesEveryReportThroughAWorkerSigkillAndRestartThenReplaysByTime() async throws {
        let tansu = try TansuBroker()
        defer { tansu.stop() }
        try await tansu.waitUntilListening()
        let folder = try TestConfigFolder(prefix: "tansu.", regions: SampleRegions.pooling)
        defer { folder.remove() }
        let configuration = try folder.load()
        let names = TopicNames(prefix: folder.prefix)
        let layout = TopicLayout(names: names, regions: configuration.regions, inputPartitions: Self.inputPartitions)

        // Topic creation through librdkafka's CreateTopics, configs included.
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": tansu.brokers]), logger: TestLogging.logger)
        let creating = ContinuousClock.now
        let failures = try await admin.createTopics(layout.topics.map { topic in
            KafkaAdmin.NewTopic(name: topic.name, partitions: topic.partitions, replicationFactor: 1, configs: topic.configs.map { config in
                let pair = config.split(separator: "=", maxSplits: 1)
                return (String(pair[0]), String(pair[1]))
            })
        }).compactMapValues { $0 }
        #expect(failures.isEmpty, "every topic created: \(failures)")
        let created = ContinuousClock.now - creating
        let reader = TopicReader(brokers: tansu.brokers, logger: TestLogging.logger, untilPartitionEnd: true)
        let existing = Set(try await reader.topics { $0.hasPrefix(folder.prefix) }.map(\.name))
        #expect(existing == Set(layout.topics.map(\.name)), "every topic of the layout exists")
        print("tansu: \(layout.topics.count) topics created through the Admin API in \(created)")

        // Two workers, reports arriving in chunks; one worker SIGKILLed once the group has committed
        // some of them, and started again.
        let group = "tansu-fleet"
        let lines = SampleReports.generate(count: 2_000, tag: "-tansu")
        try await SampleReports.load(Array(lines[..<500]), topic: names.failures, brokers: tansu.brokers, baseMs: Self.baseMs)
        let environment = Self.workerEnvironment.merging(["BAOCUO_CONFIG_DIR": folder.path]) { _, new in new }
        func startWorker(_ name: String) throws -> ChildProcess {
            try ChildProcess(["run", "--brokers", tansu.brokers, "--group", group, "--http-port", "0"], environment: environment, name: name)
        }
        var workers = try (0..<2).map { try startWorker("tansu-worker-\($0)") }
        let partitions = (0..<Int32(Self.inputPartitions)).map { $0 }
        // tansu holds a group's first JoinGroup for about 20 s.
        try await waitUntil(timeout: .seconds(90), "the group committed 100 records") {
            try await Committed.offsets(group: group, topic: names.failures, partitions: partitions, brokers: tansu.brokers).values.reduce(0, +) >= 100
        }
        workers[0].signal(SIGKILL)
        #expect(await workers[0].waitForExit(timeout: .seconds(5)) != nil)
        let loading = Task {
            for chunk in stride(from: 500, to: lines.count, by: 250) {
                try await SampleReports.load(Array(lines[chunk..<min(chunk + 250, lines.count)]), topic: names.failures,
                                             brokers: tansu.brokers, baseMs: Self.baseMs + Int64(chunk))
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        workers[0] = try startWorker("tansu-worker-restarted")
        try await loading.value

        // Caught up: the committed offsets reach each partition's end, as the broker's fetch reports
        // it (its ListOffsets watermark can be lower, see TopicReader.untilPartitionEnd).
        let inputs = try await reader.readAll(try await reader.topics { $0 == names.failures })
        #expect(inputs.count == lines.count)
        let ends = Dictionary(inputs.map { ($0.partition, $0.offset + 1) }, uniquingKeysWith: max)
        try await waitUntil(timeout: .seconds(120), "the group committed every input") {
            let committed = try await Committed.offsets(group: group, topic: names.failures, partitions: partitions, brokers: tansu.brokers)
            return ends.allSatisfy { committed[$0.key, default: -1] >= $0.value }
        }
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers {
            let status = await worker.waitForExit(timeout: .seconds(15))
            #expect(status == 0, "a worker stops cleanly on tansu: \(worker.log.suffix(1500))")
        }

        let outputs = try await reader.readAll(try await reader.topics { name in
            name.hasSuffix(".inbox") || name == names.ops || name == names.failuresDLQ
        })
        let result = Ledger(router: RecordRouter(configuration: configuration, group: group)).check(inputs: inputs, outputs: outputs)
        #expect(result.hasNoLoss, "\(result)")
        FleetReport.record("tansu: worker SIGKILL and restart", result,
                           injected: "tansu 0.6 broker; 2 processes, one SIGKILLed after 100 commits and restarted")

        // What tansu's ListOffsets answers, against the partition ends its fetches report.
        let probe = try KafkaConsumer(configuration: KafkaConfiguration(["bootstrap.servers": tansu.brokers, "group.id": "tansu-probe"]),
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
        let replay = try ChildProcess(["replay", "--brokers", tansu.brokers, "--since", since, "--until", until, "--group", "tansu-replay"],
                                      environment: ["BAOCUO_CONFIG_DIR": folder.path], name: "tansu-replay")
        let output = replay.standardOutput()
        #expect(await replay.waitForExit(timeout: .seconds(60)) == 0, "\(replay.log.suffix(1500))")
        print("tansu: baocuo replay --since \(since) --until \(until)\n\(output)")
        #expect(output.contains("scanning whole partitions"), "tansu answers the first offset for every time: the scan is chosen")
        let selected = output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("selected") }
        #expect(selected.map { $0.split(separator: " ").dropFirst().first == "200" } == true, "\(output)")
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
