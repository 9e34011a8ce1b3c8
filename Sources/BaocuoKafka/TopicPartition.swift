import CRdKafka

/// One partition of one topic.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    /// The topic name.
    public var topic: String
    /// The partition number, from 0.
    public var partition: Int32

    /// Partition `partition` of `topic`.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// `topic[partition]`.
    public var description: String { "\(topic)[\(partition)]" }
}

/// An offset in a partition: a position (0 or more) or one of librdkafka's logical offsets
/// (``beginning``, ``end``, ``stored``, ``invalid``), which are negative.
public struct KafkaOffset: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    /// The librdkafka value.
    public var rawValue: Int64

    /// The offset librdkafka calls `rawValue`.
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// A position; a negative `value` is one of the logical offsets.
    public init(_ value: Int64) { self.rawValue = value }

    /// A literal position, e.g. `offset: 5`.
    public init(integerLiteral value: Int64) { self.rawValue = value }

    /// Logical offset: the oldest retained message.
    public static let beginning = KafkaOffset(Int64(RD_KAFKA_OFFSET_BEGINNING))
    /// Logical offset: the next message to be produced.
    public static let end = KafkaOffset(Int64(RD_KAFKA_OFFSET_END))
    /// Logical offset: the group's committed offset (falling back to `auto.offset.reset`).
    public static let stored = KafkaOffset(Int64(RD_KAFKA_OFFSET_STORED))
    /// Logical offset: no offset (e.g. nothing committed yet).
    public static let invalid = KafkaOffset(Int64(RD_KAFKA_OFFSET_INVALID))

    /// A logical offset rather than a position.
    public var isLogical: Bool { rawValue < 0 }

    /// The position, or nil for a logical offset.
    public var position: Int64? { isLogical ? nil : rawValue }

    /// Orders by the raw value (logical offsets first).
    public static func < (lhs: KafkaOffset, rhs: KafkaOffset) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The raw value, e.g. `42` or `-1001`.
    public var description: String { String(rawValue) }
}

/// A partition with an offset: a position to consume from, an offset to commit (the offset of
/// the *next* message to read), or a committed offset.
public struct TopicPartitionOffset: Hashable, Sendable, CustomStringConvertible {
    /// The topic name.
    public var topic: String
    /// The partition number, from 0.
    public var partition: Int32
    /// A position, or one of the logical offsets (``KafkaOffset/beginning``, …).
    public var offset: KafkaOffset

    /// `offset` in partition `partition` of `topic`.
    public init(topic: String, partition: Int32, offset: KafkaOffset) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// `offset` in `partition`.
    public init(_ partition: TopicPartition, offset: KafkaOffset) {
        self.init(topic: partition.topic, partition: partition.partition, offset: offset)
    }

    /// The partition, without the offset.
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// ``KafkaOffset/beginning``.
    public static let beginning = KafkaOffset.beginning
    /// ``KafkaOffset/end``.
    public static let end = KafkaOffset.end
    /// ``KafkaOffset/stored``.
    public static let stored = KafkaOffset.stored
    /// ``KafkaOffset/invalid``.
    public static let invalid = KafkaOffset.invalid

    /// `topic[partition]@offset`.
    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// A topic as reported by cluster metadata.
public struct TopicMetadata: Hashable, Sendable {
    /// The topic name.
    public var name: String
    /// How many partitions the topic has.
    public var partitions: Int

    /// A topic `name` with `partitions` partitions.
    public init(name: String, partitions: Int) {
        self.name = name
        self.partitions = partitions
    }
}

/// Builds and reads `rd_kafka_topic_partition_list_t`.
enum NativePartitionList {
    /// A new list; the caller destroys it with `rd_kafka_topic_partition_list_destroy`.
    static func make(_ entries: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(entries.count))!
        for entry in entries {
            rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition).pointee.offset = entry.offset.rawValue
        }
        return list
    }

    static func make(_ partitions: [TopicPartition], offset: KafkaOffset = .invalid)
        -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    {
        make(partitions.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: offset) })
    }

    static func elements(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> UnsafeBufferPointer<rd_kafka_topic_partition_t> {
        guard let list, list.pointee.cnt > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
    }

    static func offsets(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartitionOffset] {
        elements(list).map {
            TopicPartitionOffset(topic: String(cString: $0.topic), partition: $0.partition, offset: KafkaOffset($0.offset))
        }
    }

    static func partitions(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition] {
        elements(list).map { TopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
    }

    /// The first per-partition error in the list, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> KafkaError? {
        for element in elements(list) where element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let position = "\(String(cString: element.topic))[\(element.partition)]"
            return KafkaError(element.err, context: position)
        }
        return nil
    }
}

extension Duration {
    /// Milliseconds for a librdkafka timeout argument, clamped to `0...Int32.max`.
    var kafkaMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, milliseconds))
    }
}
