import ArgumentParser
import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Logging

/// `baocuo demo` (CONTRACT §8): the whole pipeline on an embedded cluster with the sample reports.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole pipeline on an embedded Kafka-protocol cluster with sample reports and print a summary."
    )

    @Option(name: .long, help: "Report JSON lines to load (default: Demo/reports.jsonl of this checkout).")
    var input: String?

    @Option(name: .long, help: "Router workers in the consumer group.")
    var workers: Int = 2

    @Flag(name: .long, help: "Show the workers' logs (info level) on stderr.")
    var verbose = false

    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let configuration = try configOptions.load()
        var settings = configuration.settings
        settings.logging.level = verbose ? .info : .error
        let logger = LoggingSetup.bootstrap(settings: settings, label: "baocuo.demo")
        let inputPath = input ?? DemoCommand.defaultInput(configDirectory: configuration.directory)
        guard let data = FileManager.default.contents(atPath: inputPath) else {
            throw ValidationError("cannot read \(inputPath)")
        }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map(Array.init)
        let out = DemoPrinter()
        out.title("Baocuo demo — 报错 routing on an embedded Kafka-protocol cluster")

        let cluster = try MockCluster(brokers: 3, logger: logger)
        let names = TopicNames(prefix: settings.topicPrefix)
        let layout = TopicLayout(names: names, regions: configuration.regions, inputPartitions: 8)
        try cluster.createTopics(layout.topics.map { ($0.name, $0.partitions) }, replicationFactor: 3)
        out.line("cluster      \(cluster.bootstrapServers) (3 brokers, \(layout.topics.count) topics: ingest, DLQ, ops, resolutions, 401 agency inboxes and intakes, \(configuration.regions.provinces.count) province returns)")

        let loaded = try await DemoLoader.load(lines, into: names.failures, brokers: cluster.bootstrapServers, logger: logger)
        out.line("loaded       \(loaded) report lines into \(names.failures) (record timestamp = the report's reportedAt, so weekly batches match the samples)")

        let group = "baocuo-demo"
        let rules = RouterRules(RecordRouter(configuration: configuration, group: group))
        let routers = (0..<workers).map { _ in
            RouterWorker(
                options: RouterOptions(brokers: cluster.bootstrapServers, group: group, pollBatchSize: 500,
                                       kafkaProperties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]),
                rules: rules, logger: logger
            )
        }
        let started = ContinuousClock.now
        let progress = try await withThrowingTaskGroup(of: Void.self) { tasks in
            for router in routers { tasks.addTask { try await router.run() } }
            let progress = try await GroupProgress.waitUntilCaughtUp(
                group: group, topic: names.failures, partitions: 8, brokers: cluster.bootstrapServers,
                logger: logger, timeout: .seconds(60)
            )
            for router in routers { router.requestStop() }
            try await tasks.waitForAll()
            return progress
        }
        let elapsed = ContinuousClock.now - started
        out.line("routed       by \(workers) workers in group \(group) in \(DemoPrinter.seconds(elapsed)), committed \(progress.committed)/\(progress.end) input offsets")

        let reader = TopicReader(brokers: cluster.bootstrapServers, logger: logger)
        let outputs = try await reader.readAll(reader.topics { $0 != names.failures && !$0.hasSuffix(".intake") && !$0.hasSuffix(".returns") })
        RoutingSummary(records: outputs, names: names, regions: configuration.regions, inputCount: loaded).print(to: out)
        cluster.close()
    }

    static func defaultInput(configDirectory: String) -> String {
        let checkout = URL(fileURLWithPath: configDirectory).deletingLastPathComponent()
        return checkout.appendingPathComponent("Demo/reports.jsonl").path
    }
}

/// Produces report lines into the ingest topic, keyed by reportId when one can be read.
enum DemoLoader {
    static func load(_ lines: [[UInt8]], into topic: String, brokers: String, logger: Logger) async throws -> Int {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(["bootstrap.servers": brokers, "linger.ms": "5"]), logger: logger)
        let records = lines.map { line -> ProducerRecord in
            let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
            let reportId = object?["reportId"] as? String
            let reportedAt = (object?["reportedAt"] as? String).flatMap(Timestamp.parseRFC3339)
            return ProducerRecord(topic: topic, key: reportId.map { Array($0.utf8) }, value: line,
                                  timestampMs: reportedAt.map { $0.millisecondsSinceEpoch + 1000 })
        }
        try await producer.send(records)
        await producer.close()
        return records.count
    }
}
