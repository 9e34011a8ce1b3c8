import BaocuoKafka
import Logging

/// How far a consumer group has committed on a topic, against the topic's end.
public struct GroupProgress: Sendable {
    /// The group's committed offsets summed over the partitions (the low watermark where it never committed).
    public var committed: Int64
    /// The partitions' high watermarks, summed.
    public var end: Int64
    /// Records not yet committed by the group, over all partitions.
    public var lag: Int64 { end - committed }

    /// Reads the group's committed offsets and the end offsets of every partition of `topic`.
    public static func read(group: String, topic: String, partitions: Int, brokers: String, logger: Logger) async throws -> GroupProgress {
        let consumer = try KafkaConsumer(
            configuration: ConsumerConfiguration(bootstrapServers: brokers, groupID: group),
            assignment: [], logger: logger
        )
        return try await consumer.closing { consumer in
            let all = (0..<Int32(partitions)).map { TopicPartition(topic: topic, partition: $0) }
            let committed = try await consumer.committed(all)
            var progress = GroupProgress(committed: 0, end: 0)
            for position in committed {
                let marks = try await consumer.watermarks(topic: topic, partition: position.partition)
                progress.end += marks.high
                // A partition the group never committed counts from its low watermark.
                progress.committed += position.offset.position ?? marks.low
            }
            return progress
        }
    }

    /// Polls until the group has committed up to the end of `topic`, or `timeout` passes.
    @discardableResult
    public static func waitUntilCaughtUp(
        group: String, topic: String, partitions: Int, brokers: String, logger: Logger,
        timeout: Duration, onProgress: (GroupProgress) -> Void = { _ in }
    ) async throws -> GroupProgress {
        let deadline = ContinuousClock.now + timeout
        while true {
            let progress = try await read(group: group, topic: topic, partitions: partitions, brokers: brokers, logger: logger)
            onProgress(progress)
            if progress.lag <= 0 || ContinuousClock.now >= deadline { return progress }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
