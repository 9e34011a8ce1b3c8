import BaocuoDomain
import BaocuoKafka
import Logging
import Metrics

/// Dead-letters refused resolutions (CONTRACT §5): malformed ones with the §2 reject codes; with
/// `FORBIDDEN_AGENCY` those whose payload names another agency than their topic, those from an
/// agency that does not own the report, and shared-topic records after the migration window. Batch
/// building applies the same check (`BatchSources.check`), so a refused resolution never counts
/// whether or not its dead letter was written yet; this makes the refusal visible.
///
/// It also accounts for the deprecated shared topic: each of its records checked here for the first
/// time is counted in `baocuo_resolutions_shared_topic_total{outcome}` (`accepted`, `refused`,
/// `after_window`), and a tick that met any logs one warning with the counts and the agencies the
/// payloads name (region codes, nothing about the insured).
///
/// Progress is the committed offsets of `group` on every resolutions topic: a record past them is
/// checked, and the offsets move past a record only once its dead letter is acknowledged
/// (at-least-once, like the report DLQ: two workers checking at once may both write and count it).
public struct ResolutionChecker: Sendable {
    /// The topic names: the resolutions topics read and the resolutions DLQ written.
    public let names: TopicNames
    /// The consumer group whose committed offsets mark which resolutions were checked.
    public let group: String
    /// Bootstrap brokers, a comma-separated `host:port` list.
    public let brokers: String
    /// librdkafka properties (TLS, SASL, …) applied to the checker's clients.
    public let kafkaProperties: [String: String]
    /// The service zone's offset east of UTC, in seconds: dead-letter header times are written in it.
    public let utcOffsetSeconds: Int
    /// The end of the shared topic's migration window (`resolutions.sharedTopicUntil`).
    public let sharedTopicUntil: Timestamp
    /// Where the checker logs, including the shared-topic warning.
    public let logger: Logger
    private let sharedTopicRecords: DimensionedCounters<SharedTopicOutcome>

    /// A checker reading as `group`; shared-topic outcomes are counted with `metricsFactory`.
    public init(
        names: TopicNames, group: String, brokers: String, kafkaProperties: [String: String] = [:],
        utcOffsetSeconds: Int, sharedTopicUntil: Timestamp, logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.names = names
        self.group = group
        self.brokers = brokers
        self.kafkaProperties = kafkaProperties
        self.utcOffsetSeconds = utcOffsetSeconds
        self.sharedTopicUntil = sharedTopicUntil
        self.logger = logger
        sharedTopicRecords = DimensionedCounters(
            label: PipelineMetricNames.sharedTopicResolutions, dimension: "outcome",
            factory: metricsFactory, name: \.rawValue)
    }

    /// Dead-letters the snapshot's refused resolutions not yet handled; returns how many.
    @discardableResult
    public func deadLetterRefused(in snapshot: WeeklySnapshot, failedAt: Timestamp) async throws -> Int {
        guard !snapshot.resolutionRecords.isEmpty else { return 0 }
        let configuration = ConsumerConfiguration(bootstrapServers: brokers, groupID: group, overrides: kafkaProperties)
        let consumer = try KafkaConsumer(configuration: configuration, assignment: [], logger: logger)
        return try await consumer.closing { consumer in
            try await deadLetter(snapshot, failedAt: failedAt, consumer: consumer)
        }
    }

    private func deadLetter(_ snapshot: WeeklySnapshot, failedAt: Timestamp, consumer: KafkaConsumer) async throws -> Int {
        var ends: [TopicPartition: Int64] = [:]
        for record in snapshot.resolutionRecords {
            let partition = TopicPartition(topic: record.topic, partition: record.partition)
            ends[partition] = max(ends[partition] ?? 0, record.offset + 1)
        }
        let committed = try await consumer.committed(Array(ends.keys))
        let done = Dictionary(committed.map { ($0.topicPartition, $0.offset.rawValue) }) { first, _ in first }
        let unchecked = snapshot.resolutionRecords.filter {
            $0.offset >= done[TopicPartition(topic: $0.topic, partition: $0.partition)] ?? 0
        }
        let refusals = Dictionary(snapshot.sources.refused.map { ($0.position, $0.rejection) }) { first, _ in first }
        let deadLetters = unchecked.compactMap { record -> ProducerRecord? in
            guard let rejection = refusals[record.position] else { return nil }
            let source = SourcePosition(
                topic: record.topic, partition: record.partition, offset: record.offset,
                timestampMs: record.timestampMs ?? 0)
            let headers = DeadLetterHeader.headers(
                original: record.headers, rejection: rejection, source: source,
                group: group, failedAt: failedAt, utcOffsetSeconds: utcOffsetSeconds)
            return ProducerRecord(
                topic: names.resolutionsDLQ, key: record.key, value: record.value, headers: headers,
                timestampMs: record.timestampMs)
        }
        if !deadLetters.isEmpty {
            let configuration = ProducerConfiguration(bootstrapServers: brokers, overrides: kafkaProperties)
            let producer = try KafkaProducer(configuration: configuration, logger: logger)
            do {
                try await producer.send(deadLetters)
                await producer.close()
            } catch {
                await producer.close()
                throw error
            }
            logger.notice(
                "refused resolutions dead-lettered", metadata: ["count": "\(deadLetters.count)", "topic": "\(names.resolutionsDLQ)"])
        }
        accountForSharedTopic(unchecked.filter { $0.topic == names.sharedResolutions }, refusals: refusals)
        let advanced = ends.filter { $0.value > done[$0.key] ?? 0 }
        if !advanced.isEmpty {
            try await consumer.commit(advanced.map { TopicPartitionOffset($0.key, offset: KafkaOffset($0.value)) })
        }
        return deadLetters.count
    }

    /// Counts and logs the shared-topic records checked for the first time.
    private func accountForSharedTopic(_ records: [StoredRecord], refusals: [RecordPosition: Rejection]) {
        guard !records.isEmpty else { return }
        var counts: [SharedTopicOutcome: Int] = [:]
        var agencies: Set<String> = []
        let decoder = ResolutionDecoder()
        for record in records {
            let outcome: SharedTopicOutcome
            if refusals[record.position] == nil {
                outcome = .accepted
            } else if Timestamp(millisecondsSinceEpoch: record.timestampMs ?? 0) >= sharedTopicUntil {
                outcome = .afterWindow
            } else {
                outcome = .refused
            }
            counts[outcome, default: 0] += 1
            if case .success(let resolution) = decoder.decode(record.value) { agencies.insert(resolution.agency) }
        }
        sharedTopicRecords.increment(counts)
        logger.warning(
            "resolutions read from the deprecated shared topic; agencies write their own yb.agency.{region}.resolutions",
            metadata: [
                "topic": "\(names.sharedResolutions)",
                "accepted": "\(counts[.accepted] ?? 0)", "refused": "\(counts[.refused] ?? 0)",
                "afterWindow": "\(counts[.afterWindow] ?? 0)",
                "agencies": "\(agencies.sorted().joined(separator: ","))",
                "windowUntil": "\(sharedTopicUntil.rfc3339(utcOffsetSeconds: utcOffsetSeconds))",
            ])
    }
}

/// What became of a record of the deprecated shared resolutions topic (the `outcome` dimension of
/// `baocuo_resolutions_shared_topic_total`).
enum SharedTopicOutcome: String, Sendable, Hashable {
    /// Its payload agency owns the report, and it was recorded within the window.
    case accepted
    /// Malformed, or its payload agency does not own the report: dead-lettered.
    case refused
    /// Recorded at or after `resolutions.sharedTopicUntil`: dead-lettered.
    case afterWindow = "after_window"
}
