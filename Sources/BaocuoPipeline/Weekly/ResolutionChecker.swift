import BaocuoDomain
import BaocuoKafka
import Logging

/// Dead-letters refused resolutions (CONTRACT §5): malformed ones with the §2 reject codes, those
/// from an agency that does not own the report with `FORBIDDEN_AGENCY`. Batch building applies
/// the same check (`BatchSources.check`), so a refused resolution never counts whether or not its
/// dead letter was written yet; this makes the refusal visible.
///
/// Progress is the committed offsets of `group` on the resolutions topic: a refused record past
/// them is dead-lettered, and the offsets move past a record only once its dead letter is
/// acknowledged (at-least-once, like the report DLQ: two workers checking at once may both write it).
public struct ResolutionChecker: Sendable {
    public let names: TopicNames
    public let group: String
    public let brokers: String
    public let kafkaProperties: [String: String]
    public let utcOffsetSeconds: Int
    public let logger: Logger

    public init(names: TopicNames, group: String, brokers: String, kafkaProperties: [String: String] = [:],
                utcOffsetSeconds: Int, logger: Logger) {
        self.names = names
        self.group = group
        self.brokers = brokers
        self.kafkaProperties = kafkaProperties
        self.utcOffsetSeconds = utcOffsetSeconds
        self.logger = logger
    }

    /// Dead-letters the snapshot's refused resolutions not yet handled; returns how many.
    @discardableResult
    public func deadLetterRefused(in snapshot: WeeklySnapshot, failedAt: Timestamp) async throws -> Int {
        guard !snapshot.resolutionRecords.isEmpty else { return 0 }
        var properties = ["bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": "false"]
        properties.merge(kafkaProperties) { _, configured in configured }
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration(properties), assignment: [], logger: logger)
        do {
            let count = try await deadLetter(snapshot, failedAt: failedAt, consumer: consumer)
            await consumer.close()
            return count
        } catch {
            await consumer.close()
            throw error
        }
    }

    private func deadLetter(_ snapshot: WeeklySnapshot, failedAt: Timestamp, consumer: KafkaConsumer) async throws -> Int {
        var ends: [Int32: Int64] = [:]
        var records: [RecordPosition: StoredRecord] = [:]
        for record in snapshot.resolutionRecords {
            ends[record.partition] = max(ends[record.partition] ?? 0, record.offset + 1)
            records[RecordPosition(partition: record.partition, offset: record.offset)] = record
        }
        let committed = try await consumer.committed(ends.keys.map { TopicPartition(topic: names.resolutions, partition: $0) })
        let done = Dictionary(uniqueKeysWithValues: committed.map { ($0.partition, $0.offset) })
        let deadLetters = snapshot.sources.refused.compactMap { refusal -> ProducerRecord? in
            guard refusal.position.offset >= done[refusal.position.partition] ?? 0,
                  let record = records[refusal.position] else { return nil }
            let source = SourcePosition(topic: record.topic, partition: record.partition, offset: record.offset,
                                        timestampMs: record.timestampMs ?? 0)
            let headers = DeadLetterHeader.headers(original: record.headers, rejection: refusal.rejection, source: source,
                                                   group: group, failedAt: failedAt, utcOffsetSeconds: utcOffsetSeconds)
            return ProducerRecord(topic: names.resolutionsDLQ, key: record.key, value: record.value, headers: headers,
                                  timestampMs: record.timestampMs)
        }
        if !deadLetters.isEmpty {
            var properties = ["bootstrap.servers": brokers, "enable.idempotence": "true"]
            properties.merge(kafkaProperties.filter { !OutputDelivery.consumerOnly.contains($0.key) }) { _, configured in configured }
            let producer = try KafkaProducer(configuration: KafkaConfiguration(properties), logger: logger)
            do {
                try await producer.send(deadLetters)
                await producer.close()
            } catch {
                await producer.close()
                throw error
            }
            logger.notice("refused resolutions dead-lettered", metadata: ["count": "\(deadLetters.count)", "topic": "\(names.resolutionsDLQ)"])
        }
        let advanced = ends.filter { $0.value > done[$0.key] ?? 0 }
        if !advanced.isEmpty {
            try await consumer.commit(advanced.map { TopicPartitionOffset(topic: names.resolutions, partition: $0.key, offset: $0.value) })
        }
        return deadLetters.count
    }
}
