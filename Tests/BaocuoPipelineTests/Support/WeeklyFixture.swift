import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Metrics
import Testing

/// One weekly-cycle scenario: its own topic prefix (and so its own topics) on a shared cluster (the
/// mock, or another broker such as tansu).
struct WeeklyFixture {
    static let cluster: MockCluster = {
        do { return try MockCluster(brokers: 1, logger: TestLogging.logger) } catch { fatalError("mock cluster: \(error)") }
    }()

    let configuration: DomainConfiguration
    let names: TopicNames
    let brokers: String
    /// librdkafka properties of the fixture's producers and readers.
    var kafkaProperties: [String: String] = [:]
    /// Read topics to the end the broker's fetches report (tansu: see `TopicReader.untilPartitionEnd`).
    var untilPartitionEnd = false

    /// Creates the contract topics under `prefix` (every region's inbox and intake, every province's returns).
    init(prefix: String) throws {
        let shared = TestConfiguration.shared
        var settings = shared.settings
        settings.topicPrefix = prefix
        configuration = DomainConfiguration(
            directory: shared.directory, settings: settings, regions: shared.regions,
            calendar: shared.calendar, classifier: shared.classifier)
        names = TopicNames(prefix: prefix)
        brokers = Self.cluster.bootstrapServers
        let layout = TopicLayout(names: names, regions: shared.regions, inputPartitions: 1, inboxPartitions: 1)
        try Self.cluster.createTopics(layout.topics.map { ($0.name, $0.partitions) })
    }

    /// `configuration`'s topics on another broker, created by the caller.
    init(configuration: DomainConfiguration, brokers: String, kafkaProperties: [String: String] = [:], untilPartitionEnd: Bool = false) {
        self.configuration = configuration
        names = TopicNames(prefix: configuration.settings.topicPrefix)
        self.brokers = brokers
        self.kafkaProperties = kafkaProperties
        self.untilPartitionEnd = untilPartitionEnd
    }

    /// `metricsFactory`: a test's own registry (`TestMetrics.makeRegistry`), so that figures are its own.
    func scheduler(
        clock: ManualClock, lookBackWeeks: Int = 0, raceJitter: Duration = .zero,
        tickInterval: Duration = .seconds(3600), metricsFactory: (any MetricsFactory)? = nil,
        firstWeek: WeeklySchedulerOptions.FirstWeek = .lookBackWindow
    ) -> WeeklyScheduler {
        WeeklyScheduler(
            configuration: configuration,
            options: WeeklySchedulerOptions(
                brokers: brokers, lookBackWeeks: lookBackWeeks, settleDelay: .seconds(60), tickInterval: tickInterval,
                raceJitter: raceJitter, checkerGroup: names.prefix + "resolution-check", firstWeek: firstWeek
            ), clock: clock, logger: TestLogging.logger, metricsFactory: metricsFactory ?? TestMetrics.makeRegistry().1)
    }

    /// What a SIGHUP reload gives after an operator added `rows` to calendar.csv: a copy of the
    /// configuration folder with the rows appended, read again by the reload path of `baocuo run`
    /// (`reloadingRulesRegionsAndCalendar`), this fixture's settings kept.
    func reloadingCalendar(adding rows: String) throws -> DomainConfiguration {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("baocuo-calendar-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for file in [
            DomainConfiguration.settingsFile, DomainConfiguration.regionsFile, DomainConfiguration.calendarFile,
            DomainConfiguration.rulesFile,
        ] {
            try FileManager.default.copyItem(atPath: TestPaths.config + "/" + file, toPath: folder + "/" + file)
        }
        let calendar = try String(contentsOfFile: folder + "/" + DomainConfiguration.calendarFile, encoding: .utf8)
        try (calendar + rows).write(toFile: folder + "/" + DomainConfiguration.calendarFile, atomically: true, encoding: .utf8)
        let running = DomainConfiguration(
            directory: folder, settings: configuration.settings, regions: configuration.regions,
            calendar: configuration.calendar, classifier: configuration.classifier)
        return try running.reloadingRulesRegionsAndCalendar()
    }

    var operations: WeeklyOperations {
        WeeklyOperations(configuration: configuration, brokers: brokers, logger: TestLogging.logger)
    }

    /// Routes reports through the router's own code, as if consumed from the ingest topic at
    /// `receivedAt`, and writes every copy (owner, cc, ops) to its topic.
    /// `insured`: the insured region code, which decides the owner agency.
    func route(_ reports: [(id: String, insured: String, receivedAt: String)]) async throws {
        let router = RecordRouter(configuration: configuration, group: "weekly-test")
        var outputs = OutputBatch()
        for report in reports {
            let json =
                #"{"schema":"baocuo.report/v1","reportId":"\#(report.id)","reportedAt":"\#(report.receivedAt)","hospital":{"code":"H41010500123","regionCode":"410105"},"insured":{"regionCode":"\#(report.insured)","insuranceType":"employee"},"failure":{"stage":"settlement","code":"BZ-3012","message":"未查询到该参保人有效的异地就医备案信息"}}"#
            let receivedAt = Timestamp.parseRFC3339(report.receivedAt)!
            let summary = Array(json.utf8).withUnsafeBytes { value in
                router.route(
                    key: nil, value: value,
                    source: SourcePosition(
                        topic: names.failures, partition: 0, offset: 0,
                        timestampMs: receivedAt.millisecondsSinceEpoch),
                    headers: { [] }, failedAt: { receivedAt }, into: &outputs)
            }
            guard case .routed = summary else {
                Issue.record("test report \(report.id) was not routed: \(summary)")
                return
            }
        }
        let records = outputs.records.indices.map { index in
            outputs.withBytes(of: index) { key, value in
                ProducerRecord(topic: outputs.records[index].topic, key: key.map(Array.init), value: Array(value))
            }
        }
        try await send(records)
    }

    /// Publishes a resolution as an agency would, recorded at `recordedAt` (the Kafka timestamp):
    /// to `topic`, by default the agency's own resolutions topic.
    func resolve(
        _ reportId: String, agency: String, outcome: String = "RESETTLED", recordedAt: String,
        topic: String? = nil
    ) async throws {
        let json =
            #"{"schema":"baocuo.resolution/v1","reportId":"\#(reportId)","agency":"\#(agency)","outcome":"\#(outcome)","note":"已处理","resolvedAt":"\#(recordedAt)"}"#
        try await publishResolution(
            Array(json.utf8), key: reportId, recordedAt: recordedAt,
            topic: topic ?? names.resolutions(region: agency))
    }

    func publishResolution(_ value: [UInt8], key: String, recordedAt: String, topic: String) async throws {
        try await send([
            ProducerRecord(
                topic: topic, key: Array(key.utf8), value: value,
                timestampMs: Timestamp.parseRFC3339(recordedAt)!.millisecondsSinceEpoch)
        ])
    }

    func send(_ records: [ProducerRecord]) async throws {
        let properties = ["bootstrap.servers": brokers, "linger.ms": "1"].merging(kafkaProperties) { _, new in new }
        let producer = try KafkaProducer(configuration: KafkaConfiguration(properties), logger: TestLogging.logger)
        try await producer.send(records)
        await producer.close()
    }

    var reader: TopicReader {
        TopicReader(brokers: brokers, logger: TestLogging.logger, untilPartitionEnd: untilPartitionEnd)
    }

    func readAll(_ include: @escaping (String) -> Bool) async throws -> [StoredRecord] {
        try await reader.readAll(reader.topics(matching: include))
    }

    /// What the scheduler reads (markers, resolutions, inboxes), read by this fixture's reader.
    func snapshot() async throws -> WeeklySnapshot {
        try await WeeklySnapshot.read(reader: reader, names: names, sharedTopicUntil: configuration.settings.resolutions.sharedTopicUntil)
    }

    /// What a consumer of the batch topics makes of them (see docs/WEEKLY_CYCLE.md, "Consuming batches").
    func consumerView(_ kind: BatchKind) async throws -> BatchConsumerView {
        let suffix = kind == .intake ? ".intake" : ".returns"
        return BatchConsumerView(try await readAll { $0.hasPrefix(names.prefix) && $0.hasSuffix(suffix) })
    }
}

/// The consumer's reading of batch topics: per batch id, the standing revision (the highest with a
/// manifest), its manifest and its items deduplicated by (batchId, revision, reportId).
struct BatchConsumerView {
    struct Batch {
        var revision: Int
        var manifest: [String: Any]
        /// Distinct manifests seen for the standing revision: 1 when every emission agreed.
        var distinctManifests: Int
        var items: [String: [String: Any]]
        /// Copies of an item with different bytes under the same (batchId, revision, reportId).
        var conflictingItems = 0
        /// Records of the standing revision in total, duplicates included.
        var records = 0

        var itemCount: Int { manifest["itemCount"] as? Int ?? -1 }
        var digest: String { manifest["digest"] as? String ?? "" }
        var isComplete: Bool { items.count == itemCount && distinctManifests == 1 && conflictingItems == 0 }
        func outcome(_ reportId: String) -> String? { items[reportId]?["outcome"] as? String }
    }

    var batches: [String: Batch] = [:]

    init(_ records: [StoredRecord]) {
        var manifests: [String: [Int: Set<[UInt8]>]] = [:]
        var items: [String: [Int: [String: Set<[UInt8]>]]] = [:]
        var counts: [String: [Int: Int]] = [:]
        for record in records {
            guard let object = try? JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any],
                let schema = object["schema"] as? String, let batchId = object["batchId"] as? String,
                let revision = object["revision"] as? Int
            else { continue }
            counts[batchId, default: [:]][revision, default: 0] += 1
            if schema.hasSuffix("-manifest/v1") {
                manifests[batchId, default: [:]][revision, default: []].insert(record.value)
            } else if let reportId = object["reportId"] as? String {
                items[batchId, default: [:]][revision, default: [:]][reportId, default: []].insert(record.value)
            }
        }
        for (batchId, byRevision) in manifests {
            let revision = byRevision.keys.max()!
            let standing = byRevision[revision]!
            let manifest = (try? JSONSerialization.jsonObject(with: Data(standing.first!)) as? [String: Any]) ?? [:]
            let copies = items[batchId]?[revision] ?? [:]
            batches[batchId] = Batch(
                revision: revision, manifest: manifest, distinctManifests: standing.count,
                items: copies.compactMapValues { try? JSONSerialization.jsonObject(with: Data($0.first!)) as? [String: Any] },
                conflictingItems: copies.values.filter { $0.count > 1 }.count,
                records: counts[batchId]?[revision] ?? 0)
        }
    }

    /// The batches of one week.
    func week(_ week: String) -> [String: Batch] {
        batches.filter { $0.key.hasSuffix("-" + week) }
    }
}
