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
    /// Few reports: a small ingest topic still gives each of the workers several partitions.
    static let inputPartitions = 8

    @Option(name: .long, help: "Report JSON lines to load (default: Demo/reports.jsonl of this checkout).")
    var input: String?

    @Option(name: .long, help: "Router workers in the consumer group.")
    var workers: Int = 2

    @Flag(name: .long, help: "Show the workers' logs (info level) on stderr.")
    var verbose = false

    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let configuration = try configOptions.load()
        let settings = configuration.settings
        let logger = LoggingSetup.bootstrap(settings: settings, label: "baocuo.demo", level: verbose ? .info : .error)
        let inputPath = input ?? DemoCommand.defaultInput(configDirectory: configuration.directory)
        guard let data = FileManager.default.contents(atPath: inputPath) else {
            throw RuntimeError("cannot read \(inputPath)")
        }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map(Array.init)
        let out = DemoPrinter()
        out.title("Baocuo demo — 报错 routing on an embedded Kafka-protocol cluster")

        let cluster = try MockCluster(brokers: 3, logger: logger)
        let names = TopicNames(prefix: settings.topicPrefix)
        let layout = TopicLayout(names: names, regions: configuration.regions, inputPartitions: Self.inputPartitions)
        try cluster.createTopics(layout.topics.map { ($0.name, $0.partitions) }, replicationFactor: 3)
        out.line(
            "cluster      \(cluster.bootstrapServers) (3 brokers, \(layout.topics.count) topics: ingest, DLQ, ops, "
                + "401 agency inboxes, intakes and resolutions, \(configuration.regions.provinces.count) province returns)")

        let loaded = try await DemoLoader.load(lines, into: names.failures, brokers: cluster.bootstrapServers, logger: logger)
        out.line(
            "loaded       \(loaded) report lines into \(names.failures) "
                + "(record timestamp = the report's reportedAt, so weekly batches match the samples)")

        let group = "baocuo-demo"
        let rules = RouterRules(RecordRouter(configuration: configuration, group: group))
        let routers = (0..<workers).map { _ in
            RouterWorker(
                options: RouterOptions(
                    brokers: cluster.bootstrapServers, group: group, pollBatchSize: 500,
                    kafkaProperties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]),
                rules: rules, logger: logger
            )
        }
        let started = ContinuousClock.now
        let progress = try await withThrowingTaskGroup(of: Void.self) { tasks in
            for router in routers { tasks.addTask { try await router.run() } }
            let progress = try await GroupProgress.waitUntilCaughtUp(
                group: group, topic: names.failures, partitions: Self.inputPartitions, brokers: cluster.bootstrapServers,
                logger: logger, timeout: .seconds(60)
            )
            for router in routers { router.requestStop() }
            try await tasks.waitForAll()
            return progress
        }
        let elapsed = ContinuousClock.now - started
        out.line(
            "routed       by \(workers) workers in group \(group) in \(DemoPrinter.seconds(elapsed)), "
                + "committed \(progress.committed)/\(progress.end) input offsets")

        let reader = TopicReader(brokers: cluster.bootstrapServers, logger: logger)
        let outputs = try await reader.readAll(
            reader.topics { $0 != names.failures && !$0.hasSuffix(".intake") && !$0.hasSuffix(".returns") })
        RoutingSummary(records: outputs, names: names, regions: configuration.regions, inputCount: loaded).print(to: out)
        try await WeeklyDemo(configuration: configuration, brokers: cluster.bootstrapServers, logger: logger, out: out).run()
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
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrapServers: brokers, linger: .milliseconds(5)), logger: logger)
        let records = lines.map { line -> ProducerRecord in
            let fields = try? JSONDecoder().decode(KeyFields.self, from: Data(line))
            let reportedAt = fields?.reportedAt.flatMap(Timestamp.parseRFC3339)
            return ProducerRecord(
                topic: topic, key: fields?.reportId.map { Array($0.utf8) }, value: line,
                timestampMs: reportedAt.map { $0.millisecondsSinceEpoch + 1000 })
        }
        try await producer.send(records)
        await producer.close()
        return records.count
    }

    /// A report line's key and timestamp: each nil when absent or not a string (sample lines
    /// may be hostile).
    private struct KeyFields: Decodable {
        var reportId: String?
        var reportedAt: String?

        enum CodingKeys: String, CodingKey { case reportId, reportedAt }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            reportId = try? container.decode(String.self, forKey: .reportId)
            reportedAt = try? container.decode(String.self, forKey: .reportedAt)
        }
    }
}

/// The weekly part of the demo: the scheduler, on a clock set by hand, emits the 2026-W49 intake,
/// agencies resolve (one of them a report it does not own), and the Friday return follows.
/// Fixed instants and sample data keep it deterministic.
struct WeeklyDemo {
    let configuration: DomainConfiguration
    let brokers: String
    let logger: Logger
    let out: DemoPrinter

    static let week = IsoWeek("2026-W49")!

    func run() async throws {
        let names = TopicNames(prefix: configuration.settings.topicPrefix)
        let clock = ManualClock("2026-11-30T09:01:00+08:00")
        let scheduler = WeeklyScheduler(
            configuration: configuration,
            options: WeeklySchedulerOptions(
                brokers: brokers, lookBackWeeks: 0, raceJitter: .zero, checkerGroup: "baocuo-demo.resolution-check"
            ), clock: clock, logger: logger)
        let operations = WeeklyOperations(configuration: configuration, brokers: brokers, logger: logger)
        let cycle = try operations.cycle(of: Self.week)
        let utcOffset = configuration.settings.schedule.utcOffsetSeconds

        out.title(
            "Weekly cycle \(Self.week) — intake \(cycle.intakeAt.rfc3339(utcOffsetSeconds: utcOffset)), "
                + "due \(cycle.dueBy.rfc3339(utcOffsetSeconds: utcOffset))")
        let intake = try await scheduler.tick()
        let empty = intake.emitted.count { $0.itemCount == 0 }
        out.line("Monday 09:01  the scheduler emitted \(intake.emitted.count) intake batches (one per agency; \(empty) empty manifests)")
        let snapshot = try await operations.snapshot()
        BatchTable.print(try operations.rebuild(.intake, week: Self.week, snapshot: snapshot), to: out)

        // Agencies answer during the week, each on its own resolutions topic: the owner resolves its
        // reports; the treatment region tries to resolve one it does not own, once as itself and once
        // claiming to be the owner; an agency not yet moved uses the deprecated shared topic; and an
        // older overdue report is finally settled.
        let current = snapshot.sources.reports.values.filter { $0.intakeBatch == Self.week }.sorted { $0.reportId < $1.reportId }
        let older = snapshot.sources.reports.values.filter { $0.intakeBatch < Self.week }.sorted { $0.reportId < $1.reportId }
        var resolutions: [DemoResolution] = []
        if let first = current.first {
            resolutions.append(
                DemoResolution(
                    first.reportId, agency: first.owner, topic: names.resolutions(region: first.owner),
                    .resettled, at: "2026-12-02T10:30:00+08:00"))
            let intruder = configuration.regions.regions.first { $0.code != first.owner }!.code
            resolutions.append(
                DemoResolution(
                    first.reportId, agency: intruder, topic: names.resolutions(region: intruder),
                    .rejected, at: "2026-12-02T11:00:00+08:00"))
            resolutions.append(
                DemoResolution(
                    first.reportId, agency: first.owner, topic: names.resolutions(region: intruder),
                    .rejected, at: "2026-12-02T11:05:00+08:00"))
        }
        if current.count > 1 {
            // The owner also corrects Baocuo's category (a labelled line for the classifier), and then
            // sends a category that does not exist, which refuses that resolution.
            let corrected = Category.allCases.first { $0 != current[1].category && $0 != .unclassified }!
            resolutions.append(
                DemoResolution(
                    current[1].reportId, agency: current[1].owner, topic: names.resolutions(region: current[1].owner),
                    .needMoreInfo, at: "2026-12-03T09:00:00+08:00", category: corrected.rawValue))
            resolutions.append(
                DemoResolution(
                    current[1].reportId, agency: current[1].owner, topic: names.resolutions(region: current[1].owner),
                    .needMoreInfo, at: "2026-12-03T09:30:00+08:00", category: "FILING_GONE"))
        }
        if let moving = (current.dropFirst(2) + older.dropFirst()).first {
            resolutions.append(
                DemoResolution(
                    moving.reportId, agency: moving.owner, topic: names.sharedResolutions,
                    .filingCompleted, at: "2026-12-03T10:00:00+08:00"))
        }
        if let overdue = older.first {
            resolutions.append(
                DemoResolution(
                    overdue.reportId, agency: overdue.owner, topic: names.resolutions(region: overdue.owner),
                    .manualReimbursement, at: "2026-12-03T14:00:00+08:00"))
        }
        try await publish(resolutions)
        out.section(
            "During the week: \(resolutions.count) resolutions, each agency on its own \(names.resolutions(region: "{region}")) "
                + "(\(names.sharedResolutions) is the deprecated shared topic, read until resolutions.sharedTopicUntil)")
        out.table(
            ["report", "written to", "payload agency", "outcome", "category", "recorded at"],
            resolutions.map { [$0.reportId, $0.topic, $0.agency, $0.outcome.rawValue, $0.category ?? "", $0.at] })

        clock.set("2026-12-04T16:01:00+08:00")
        let returnTick = try await scheduler.tick()
        out.section(
            "Friday 16:01  the scheduler emitted \(returnTick.emitted.count) return batches (one per province) "
                + "and dead-lettered \(returnTick.deadLettered) refused resolution(s)")
        let afterReturn = try await operations.snapshot()
        BatchTable.print(try operations.rebuild(.return, week: Self.week, snapshot: afterReturn), to: out)
        let reader = TopicReader(brokers: brokers, logger: logger)
        let deadLetters = try await reader.readAll(reader.topics { $0 == names.resolutionsDLQ })
        out.section("Refused resolutions (\(names.resolutionsDLQ))")
        out.table(
            ["report", "code", "detail"],
            deadLetters.map {
                [$0.keyString ?? "", $0.header(DeadLetterHeader.errorCode) ?? "", $0.header(DeadLetterHeader.errorDetail) ?? ""]
            })
        let corrections = try await CorrectionExport.read(
            reader: reader, names: names,
            sharedTopicUntil: configuration.settings.resolutions.sharedTopicUntil,
            since: Timestamp(millisecondsSinceEpoch: 0))
        out.section("Corrections for the classifier (`baocuo rules corrections`): \(corrections.count) labelled line(s)")
        out.table(
            ["report", "routed as", "corrected by", "category"],
            corrections.map {
                [$0.example.id, $0.routedCategory.rawValue, $0.agency, $0.example.category]
            })
        let status = try operations.status(week: Self.week, snapshot: afterReturn, now: clock.now())
        let again = try await scheduler.tick().emitted.count
        out.section(
            "Status: intake \(status.intake.emitted)/\(status.intake.expected) and return "
                + "\(status.returns.emitted)/\(status.returns.expected) batches emitted; a second tick emits \(again) more.")
    }

    private func publish(_ resolutions: [DemoResolution]) async throws {
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: brokers), logger: logger)
        try await producer.send(
            resolutions.map { resolution in
                let category = resolution.category.map { #","category":"\#($0)""# } ?? ""
                let json =
                    #"{"schema":"baocuo.resolution/v1","reportId":"\#(resolution.reportId)","agency":"\#(resolution.agency)","#
                    + #""outcome":"\#(resolution.outcome.rawValue)","resolvedAt":"\#(resolution.at)"\#(category)}"#
                return ProducerRecord(
                    topic: resolution.topic, key: Array(resolution.reportId.utf8), value: Array(json.utf8),
                    timestampMs: Timestamp.parseRFC3339(resolution.at)!.millisecondsSinceEpoch)
            })
        await producer.close()
    }
}

/// A resolution the demo publishes: `agency` is what the payload claims, `topic` where it is written.
struct DemoResolution {
    var reportId: String
    var agency: String
    var topic: String
    var outcome: ResolutionOutcome
    var at: String
    /// A corrected category (CONTRACT §5), as the agency wrote it.
    var category: String?

    init(_ reportId: String, agency: String, topic: String, _ outcome: ResolutionOutcome, at: String, category: String? = nil) {
        self.reportId = reportId
        self.agency = agency
        self.topic = topic
        self.outcome = outcome
        self.at = at
        self.category = category
    }
}
