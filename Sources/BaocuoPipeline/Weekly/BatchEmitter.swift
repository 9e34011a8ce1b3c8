import BaocuoDomain
import BaocuoKafka
import Logging

/// A batch and the revision to emit it at.
public struct PlannedEmission: Sendable {
    /// The batch as built now.
    public var batch: WeeklyBatch
    /// The revision to write it at (see `BatchMarker.revision(for:latest:)`).
    public var revision: Int

    /// An emission of `batch` at `revision`.
    public init(batch: WeeklyBatch, revision: Int) {
        self.batch = batch
        self.revision = revision
    }
}

/// Writes weekly batches to Kafka so that any number of attempts, complete or cut short, leave
/// consumers one complete batch: the records of a batch are a function of its content and
/// revision (same keys, values and timestamps every time), items precede the manifest on one
/// partition, and the marker is written only once items and manifest are acknowledged.
public struct BatchEmitter: Sendable {
    /// The topic names: batches go to the intake and return topics, markers to the markers topic.
    public let names: TopicNames
    /// Writes the item, manifest and marker records.
    public let encoder: BatchRecordEncoder
    /// Bootstrap brokers, a comma-separated `host:port` list.
    public let brokers: String
    /// librdkafka properties (TLS, SASL, …) applied to the emitter's producers.
    public let kafkaProperties: [String: String]
    /// Where emissions are logged.
    public let logger: Logger

    /// An emitter to the cluster at `brokers`.
    public init(
        names: TopicNames, encoder: BatchRecordEncoder, brokers: String, kafkaProperties: [String: String] = [:],
        logger: Logger
    ) {
        self.names = names
        self.encoder = encoder
        self.brokers = brokers
        self.kafkaProperties = kafkaProperties
        self.logger = logger
    }

    /// The topic a batch goes to (CONTRACT §1).
    public func topic(of batch: WeeklyBatch) -> String {
        switch batch.kind {
        case .intake: names.intake(region: batch.scope)
        case .return: names.returns(province: batch.scope)
        }
    }

    /// The records of one emission, items then manifest, keyed by batch id. The record timestamp
    /// is the cycle's intake (or due) instant, not the emission time, so re-emissions are identical.
    public func records(of emission: PlannedEmission) -> [ProducerRecord] {
        let batch = emission.batch
        let key = Array(batch.batchId.utf8)
        let topic = topic(of: batch)
        let timestamp = (batch.kind == .intake ? batch.cycle.intakeAt : batch.cycle.dueBy).millisecondsSinceEpoch
        return encoder.records(of: batch, revision: emission.revision).map {
            ProducerRecord(topic: topic, key: key, value: $0, timestampMs: timestamp)
        }
    }

    /// Emits the batches, then records their markers; returns the markers written.
    /// A failure before the markers are acknowledged leaves the batches unmarked, so the next
    /// attempt emits them again, identically.
    public func emit(_ emissions: [PlannedEmission], emittedAt: Timestamp) async throws -> [BatchMarker] {
        guard !emissions.isEmpty else { return [] }
        let configuration = ProducerConfiguration(bootstrapServers: brokers, linger: .milliseconds(5), overrides: kafkaProperties)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        do {
            try await producer.send(emissions.flatMap(records(of:)))
            let markers = emissions.map { BatchMarker(batch: $0.batch, revision: $0.revision, emittedAt: emittedAt) }
            try await producer.send(
                markers.map { marker in
                    ProducerRecord(
                        topic: names.batches, key: Array(marker.batchId.utf8),
                        value: marker.encoded(utcOffsetSeconds: encoder.utcOffsetSeconds))
                })
            await producer.close()
            return markers
        } catch {
            await producer.close()
            throw error
        }
    }
}
