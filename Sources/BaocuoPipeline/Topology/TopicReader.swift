import BaocuoKafka
import Logging

/// A record read back from a topic, copied out of librdkafka's buffers.
public struct StoredRecord: Sendable {
    /// The topic the record was read from.
    public var topic: String
    /// Its partition.
    public var partition: Int32
    /// Its offset in the partition.
    public var offset: Int64
    /// The record timestamp (ms since the epoch), when it has one.
    public var timestampMs: Int64?
    /// The key bytes; `nil` for a null key.
    public var key: [UInt8]?
    /// The value bytes.
    public var value: [UInt8]
    /// The headers, in order.
    public var headers: [KafkaHeader]

    /// The last header called `name`, as UTF-8 text; `nil` when absent or null.
    public func header(_ name: String) -> String? {
        headers.last { $0.key == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The key as UTF-8 text; `nil` for a null key.
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    /// The value as UTF-8 text (invalid bytes replaced).
    public var valueString: String { String(decoding: value, as: UTF8.self) }
}

/// Reads whole topics, from their low to their high watermark as of the start of the read: the
/// snapshot that batch building, replay previews, the ledger check and the demo work from.
public struct TopicReader: Sendable {
    /// Bootstrap brokers, a comma-separated `host:port` list.
    public let brokers: String
    /// Where the reader logs its consumers' events.
    public let logger: Logger
    /// librdkafka properties (TLS, SASL, …) applied to the reader's consumers.
    public let properties: [String: String]
    /// Read each partition until the broker reports its end (the fetch's high watermark), not only
    /// up to the ListOffsets watermark: tansu 0.6 answers ListOffsets(latest) with the last batch's
    /// base offset + 1, which hides the rest of that batch (docs/RELIABILITY.md, "tansu").
    public let untilPartitionEnd: Bool

    /// A reader of the cluster at `brokers`.
    public init(brokers: String, logger: Logger, properties: [String: String] = [:], untilPartitionEnd: Bool = false) {
        self.brokers = brokers
        self.logger = logger
        self.properties = properties
        self.untilPartitionEnd = untilPartitionEnd
    }

    /// Every partition of every existing topic whose name satisfies `include`.
    public func topics(matching include: (String) -> Bool) async throws -> [TopicMetadata] {
        let consumer = try KafkaConsumer(configuration: configuration(), assignment: [], logger: logger)
        let metadata = try await consumer.closing { try await $0.metadata() }
        return metadata.filter { include($0.name) }.sorted { $0.name < $1.name }
    }

    /// Calls `body` for every record of `topics` in partition order, with bounded memory.
    /// `isolation.level` is read_committed, so aborted transactional writes are never seen.
    public func forEachRecord(in topics: [TopicMetadata], _ body: (StoredRecord) throws -> Void) async throws {
        _ = try await forEachRecord(in: topics, from: [:], body)
    }

    /// Calls `body` for the records of `topics` from `positions` (the next offset to read; a
    /// partition without one, or with one below its low watermark, from its low watermark) to the
    /// high watermark as of the start of the read, and returns where each partition now stands:
    /// the positions to pass next time to read only what was appended since.
    ///
    /// Throws ``TopicRewoundError`` when a position lies beyond its partition's high watermark
    /// (the topic was deleted and created again): the caller's records of it are stale.
    public func forEachRecord(
        in topics: [TopicMetadata], from positions: [TopicPartition: Int64], _ body: (StoredRecord) throws -> Void
    ) async throws -> [TopicPartition: Int64] {
        var assignment: [TopicPartitionOffset] = []
        var ends: [TopicPartition: Int64] = [:]
        var reached: [TopicPartition: Int64] = [:]
        let probe = try KafkaConsumer(configuration: configuration(), assignment: [], logger: logger)
        try await probe.closing { probe in
            for topic in topics {
                for partition in 0..<Int32(topic.partitions) {
                    // One request per partition (1,600 inbox partitions): a stop must not wait for them all.
                    try Task.checkCancellation()
                    let key = TopicPartition(topic: topic.name, partition: partition)
                    let marks = try await probe.watermarks(topic: topic.name, partition: partition)
                    if let position = positions[key], position > marks.high {
                        throw TopicRewoundError(partition: key.description, position: position, highWatermark: marks.high)
                    }
                    let start = max(positions[key] ?? marks.low, marks.low)
                    reached[key] = start
                    guard marks.high > start else { continue }
                    assignment.append(TopicPartitionOffset(topic: topic.name, partition: partition, offset: KafkaOffset(start)))
                    ends[key] = marks.high
                }
            }
        }
        guard !assignment.isEmpty else { return reached }
        let consumer = try KafkaConsumer(configuration: configuration(), assignment: assignment, logger: logger)
        try await consumer.closing { consumer in
            try await read(consumer, until: ends, reached: &reached, body)
        }
        return reached
    }

    /// Polls `consumer` until every partition of `ends` has reached its end, calling `body` per record
    /// and moving `reached` past each one.
    private func read(
        _ consumer: KafkaConsumer, until ends: [TopicPartition: Int64], reached: inout [TopicPartition: Int64],
        _ body: (StoredRecord) throws -> Void
    ) async throws {
        var remaining = ends
        var lastProgress = ContinuousClock.now
        while !remaining.isEmpty {
            try Task.checkCancellation()
            let batch = try await consumer.poll(maxMessages: 5000, timeout: .milliseconds(200))
            for message in batch {
                let key = TopicPartition(topic: message.topic, partition: message.partition)
                guard let end = remaining[key], untilPartitionEnd || message.offset < end else { continue }
                try body(
                    StoredRecord(
                        topic: message.topic, partition: message.partition, offset: message.offset,
                        timestampMs: message.timestampMs, key: message.keyBytes, value: message.valueBytes,
                        headers: message.headers))
                reached[key] = max(reached[key] ?? 0, message.offset + 1)
                if !untilPartitionEnd, message.offset + 1 >= end { remaining[key] = nil }
            }
            // End-of-partition events also cover partitions whose last offsets are transaction
            // markers, which no record is returned for.
            for position in batch.partitionsAtEnd {
                let key = position.topicPartition
                if let end = remaining[key], position.offset.rawValue >= end {
                    remaining[key] = nil
                    reached[key] = max(reached[key] ?? 0, position.offset.rawValue)
                }
            }
            if !batch.isEmpty || !batch.partitionsAtEnd.isEmpty {
                lastProgress = ContinuousClock.now
            } else if ContinuousClock.now - lastProgress > .seconds(30) {
                throw TopicReadError(partitions: remaining.keys.map(\.description).sorted())
            }
        }
    }

    /// All records of `topics`, in partition order.
    public func readAll(_ topics: [TopicMetadata]) async throws -> [StoredRecord] {
        var records: [StoredRecord] = []
        try await forEachRecord(in: topics) { records.append($0) }
        return records
    }

    private func configuration() -> ConsumerConfiguration {
        ConsumerConfiguration(
            bootstrapServers: brokers, groupID: "baocuo-reader", isolationLevel: .readCommitted,
            reportsPartitionEnd: true, overrides: properties)
    }
}

/// Reading a topic snapshot stalled before reaching the end of these partitions.
public struct TopicReadError: Error, CustomStringConvertible {
    /// The stalled partitions, as `topic[partition]`, sorted.
    public var partitions: [String]
    /// Which partitions stalled, after 30 s without progress.
    public var description: String { "no progress for 30 s reading \(partitions.joined(separator: ", "))" }
}

/// A partition's high watermark is below a position already read: the topic was deleted and
/// created again, so what was read of it no longer describes it.
public struct TopicRewoundError: Error, CustomStringConvertible {
    /// The rewound partition, as `topic[partition]`.
    public var partition: String
    /// The offset already read up to.
    public var position: Int64
    /// The partition's high watermark now, below `position`.
    public var highWatermark: Int64
    /// The partition, its high watermark and the position already read.
    public var description: String { "\(partition) ends at \(highWatermark), below the position \(position) already read" }
}
