import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

/// The hostile-input corpus through a real router worker on the mock cluster: every record is
/// accounted for (routed or dead-lettered) and the worker keeps running and routing afterwards.
@Suite(.serialized)
struct HostileInputPipelineTests {
    let configuration = TestConfiguration.shared
    var names: TopicNames { TopicNames(prefix: configuration.settings.topicPrefix) }

    /// The committed corpus (Tests/BaocuoDomainTests/Fixtures/hostile/cases), in file-name order.
    static let corpus: [[UInt8]] = {
        let directory = TestPaths.checkout.appendingPathComponent("Tests/BaocuoDomainTests/Fixtures/hostile/cases")
        let files = try! FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return files.map { Array(FileManager.default.contents(atPath: directory.appendingPathComponent($0).path)!) }
    }()

    /// Large hostile records, generated: over the size limit, a nesting bomb, a value bomb.
    static let generated: [[UInt8]] = {
        let valid = SampleReports.lines[0]
        func withExtraMember(_ value: [UInt8]) -> [UInt8] { Array(valid.dropLast()) + Array(#","x":"#.utf8) + value + [0x7D] }
        let oversized = withExtraMember([0x22] + Array(repeating: UInt8(ascii: "a"), count: 1 << 20) + [0x22])
        let nesting = Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)
        let values = withExtraMember([0x5B] + Array(repeating: Array("0,".utf8), count: 300_000).flatMap { $0 } + [0x30, 0x5D])
        return [oversized, nesting, values]
    }()

    @Test func everyHostileRecordIsRoutedOrDeadLetteredAndTheWorkerKeepsGoing() async throws {
        let cluster = try MockCluster(brokers: 3, logger: TestLogging.logger)
        defer { cluster.close() }
        let partitions = 2
        let layout = TopicLayout(names: names, regions: configuration.regions, inputPartitions: partitions)
        try cluster.createTopics(layout.topics.map { ($0.name, $0.partitions) }, replicationFactor: 3)
        let group = "router-hostile"
        let worker = RouterWorker(
            options: RouterOptions(
                brokers: cluster.bootstrapServers, group: group, pollBatchSize: 500,
                commitInterval: .milliseconds(200),
                kafkaProperties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]),
            rules: RouterRules(RecordRouter(configuration: configuration, group: group)),
            logger: TestLogging.logger
        )
        let hostile = Self.corpus + Self.generated
        let valid = SampleReports.generate(count: 200)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await worker.run() }
            // The hostile records first; then valid ones, which the same worker must still route.
            try await Self.load(hostile, topic: names.failures, brokers: cluster.bootstrapServers)
            try await waitUntilCaughtUp(cluster: cluster, group: group, partitions: partitions)
            try await SampleReports.load(
                valid, topic: names.failures, brokers: cluster.bootstrapServers,
                baseMs: 1_796_000_000_000)
            try await waitUntilCaughtUp(cluster: cluster, group: group, partitions: partitions)
            worker.requestStop()
            try await tasks.waitForAll()
        }

        let reader = TopicReader(brokers: cluster.bootstrapServers, logger: TestLogging.logger)
        let inputs = try await reader.readAll(reader.topics { $0 == names.failures })
        let outputs = try await reader.readAll(
            reader.topics { name in
                name.hasSuffix(".inbox") || name == names.ops || name == names.failuresDLQ
            })
        let result = Ledger(router: RecordRouter(configuration: configuration, group: group)).check(inputs: inputs, outputs: outputs)
        #expect(result.inputs == hostile.count + valid.count)
        #expect(result.isExact, "\(result)")
        FleetReport.record(
            "hostile input", result,
            injected: "the hostile corpus (\(hostile.count) records: broken UTF-8, bombs, 1 MiB+, wrong types…), then 200 valid reports")
        #expect(result.ownerCopies + result.deadLetters == result.inputs, "\(result)")
        // The corpus has both outcomes; the generated records are all dead letters.
        #expect(result.expectedDeadLetters > Self.generated.count && result.expectedRouted > 100, "\(result)")
        let deadLetters = outputs.filter { $0.topic == names.failuresDLQ }
        let codes = Set(deadLetters.compactMap { $0.header(DeadLetterHeader.errorCode) })
        #expect(
            codes.isSuperset(of: [
                "INVALID_UTF8", "INVALID_JSON", "TOO_LARGE", "UNSUPPORTED_SCHEMA",
                "MISSING_FIELD", "INVALID_FIELD", "UNKNOWN_REGION",
            ]), "\(codes)")
        for record in deadLetters {
            #expect(record.header(DeadLetterHeader.errorDetail)?.isEmpty == false)
        }
    }

    func waitUntilCaughtUp(cluster: MockCluster, group: String, partitions: Int) async throws {
        let progress = try await GroupProgress.waitUntilCaughtUp(
            group: group, topic: names.failures, partitions: partitions, brokers: cluster.bootstrapServers,
            logger: TestLogging.logger, timeout: .seconds(90))
        #expect(progress.lag == 0, "the group did not commit the whole input: \(progress)")
    }

    /// Produces `lines` one by one with room for records over the 1 MiB record limit, so that
    /// the router, not the producer, is the one to refuse them.
    static func load(_ lines: [[UInt8]], topic: String, brokers: String) async throws {
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration([
                "bootstrap.servers": brokers, "linger.ms": "5",
                "message.max.bytes": String(4 << 20),
            ]),
            logger: TestLogging.logger)
        try await producer.send(
            lines.enumerated().map { index, line in
                ProducerRecord(topic: topic, value: line, timestampMs: 1_795_000_000_000 + Int64(index))
            })
        await producer.close()
    }
}
