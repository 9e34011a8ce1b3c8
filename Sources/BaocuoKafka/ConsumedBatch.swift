import CRdKafka
import Synchronization

/// The messages of one ``KafkaConsumer/poll(maxMessages:timeout:)``, read in place from
/// librdkafka's buffers (no copy) and freed when the batch is released.
public final class ConsumedBatch: @unchecked Sendable, RandomAccessCollection {
    // @unchecked: the message pointers and names are immutable after init; librdkafka parses
    // headers lazily into the message, so header access is serialized by `headerLock`.
    private let messages: UnsafeMutableBufferPointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    private let topics: [String]
    private let headerLock = Mutex<Void>(())
    /// Keeps the handle alive: messages reference its topics and partitions.
    private let client: NativeClient?

    /// Partitions whose end was reached in this poll (only with `enable.partition.eof=true`),
    /// with the offset of the next message to be produced.
    public let partitionsAtEnd: [TopicPartitionOffset]

    init(
        client: NativeClient?,
        messages: UnsafeMutableBufferPointer<UnsafeMutablePointer<rd_kafka_message_t>?>,
        topics: [String],
        partitionsAtEnd: [TopicPartitionOffset]
    ) {
        self.client = client
        self.messages = messages
        self.topics = topics
        self.partitionsAtEnd = partitionsAtEnd
    }

    deinit {
        for message in messages { rd_kafka_message_destroy(message) }
        messages.deallocate()
    }

    /// Always 0.
    public var startIndex: Int { 0 }
    /// The number of messages.
    public var endIndex: Int { messages.count }

    /// The message at `position`; valid only while the batch is alive.
    public subscript(position: Int) -> ConsumedMessage {
        precondition(indices.contains(position), "message index out of range")
        return ConsumedMessage(batch: self, index: position)
    }

    fileprivate func message(_ index: Int) -> UnsafeMutablePointer<rd_kafka_message_t> { messages[index]! }
    fileprivate func topic(_ index: Int) -> String { topics[index] }
    fileprivate func withHeaderLock<R>(_ body: () -> R) -> R { headerLock.withLock { _ in body() } }
}

/// One consumed record. It keeps its ``ConsumedBatch`` alive; the buffers passed to
/// `withKey`/`withValue` are valid only inside the closure.
public struct ConsumedMessage: Sendable {
    private let batch: ConsumedBatch
    private let index: Int

    fileprivate init(batch: ConsumedBatch, index: Int) {
        self.batch = batch
        self.index = index
    }

    private var native: rd_kafka_message_t { batch.message(index).pointee }

    /// The topic the message was read from.
    public var topic: String { batch.topic(index) }
    /// The partition the message was read from.
    public var partition: Int32 { native.partition }
    /// The message's offset in its partition (a position, never a logical offset).
    public var offset: Int64 { native.offset }
    /// ``topic`` and ``partition`` together.
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The record's timestamp (create or log-append time), or `nil` if it has none.
    public var timestampMs: Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(batch.message(index), &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
    }

    /// Calls `body` with the key bytes in place, or `nil` for a null key.
    public func withKey<R>(_ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        let message = native
        guard let key = message.key else { return try body(nil) }
        return try body(UnsafeRawBufferPointer(start: key, count: message.key_len))
    }

    /// Calls `body` with the value bytes in place (empty for a null value).
    public func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let message = native
        return try body(UnsafeRawBufferPointer(start: message.payload, count: message.payload != nil ? message.len : 0))
    }

    /// A copy of the key, or `nil` for a null key.
    public var keyBytes: [UInt8]? { withKey { $0.map(Array.init) } }

    /// A copy of the value.
    public var valueBytes: [UInt8] { withValue { Array($0) } }

    /// The record headers, in order (materialized on each access).
    public var headers: [KafkaHeader] {
        forEachHeader { _, _, _ in true }
    }

    /// The value of the first header named `key`; `.some(nil)` for a null header value,
    /// `nil` when absent.
    public func header(_ key: String) -> [UInt8]?? {
        forEachHeader { name, _, _ in name == key }.first.map(\.value)
    }

    /// Collects the headers `include` accepts.
    private func forEachHeader(_ include: (String, UnsafeRawPointer?, Int) -> Bool) -> [KafkaHeader] {
        batch.withHeaderLock {
            var list: OpaquePointer?
            guard rd_kafka_message_headers(batch.message(index), &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
                return []
            }
            var result: [KafkaHeader] = []
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            var position = 0
            while rd_kafka_header_get_all(list, position, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                position += 1
                let key = String(cString: name!)
                guard include(key, value, size) else { continue }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                result.append(KafkaHeader(key: key, value: bytes))
            }
            return result
        }
    }
}
