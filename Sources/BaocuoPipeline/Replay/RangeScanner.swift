import BaocuoKafka
import Logging

/// Reads a plan's partition ranges from their `from` offsets to their ends, batch by batch, with a
/// manually assigned consumer of the replay's group (which the checkpoint is committed with).
final class RangeScanner {
    let consumer: KafkaConsumer
    private var ends: [Int32: Int64] = [:]
    private var positions: [Int32: Int64] = [:]
    private let starts: [Int32: Int64]
    private let topic: String
    private let batchSize: Int
    private var lastProgress = ContinuousClock.now

    init(plan: ReplayPlan, options: ReplayOptions, batchSize: Int, logger: Logger) throws(KafkaError) {
        let open = plan.partitions.filter { $0.remaining > 0 }
        let configuration = ConsumerConfiguration(
            bootstrapServers: options.brokers, groupID: options.group, clientID: "baocuo-replay-\(ProcessIdentity.hostAndPID)",
            autoOffsetReset: .earliest, isolationLevel: .readCommitted, reportsPartitionEnd: true,
            overrides: options.consumerOverrides
        )
        consumer = try KafkaConsumer(
            configuration: configuration,
            assignment: open.map { TopicPartitionOffset(topic: plan.topic, partition: $0.partition, offset: KafkaOffset($0.from)) },
            logger: logger
        )
        topic = plan.topic
        self.batchSize = batchSize
        for range in open {
            ends[range.partition] = range.end
            positions[range.partition] = range.from
        }
        starts = positions
    }

    /// Whether every range was read to its end.
    var isFinished: Bool { ends.isEmpty }

    /// Offsets passed so far (records read, skipped or not, and gaps), for progress.
    var offsetsPassed: Int64 {
        positions.reduce(0) { $0 + $1.value - (starts[$1.key] ?? $1.value) }
    }

    /// The next records inside the ranges, in offset order per partition; nil once every range is read.
    /// - Throws: when no partition advanced for 30 s (the cluster is unreachable or the range vanished).
    func next() async throws -> [ConsumedMessage]? {
        while !ends.isEmpty {
            let batch = try await consumer.poll(maxMessages: batchSize, timeout: .milliseconds(200))
            var records: [ConsumedMessage] = []
            for message in batch {
                guard let end = ends[message.partition], message.offset < end else { continue }
                records.append(message)
                positions[message.partition] = message.offset + 1
                if message.offset + 1 >= end { ends[message.partition] = nil }
            }
            // End-of-partition events also cover ranges that end in transaction markers or gaps.
            for position in batch.partitionsAtEnd where position.topic == topic {
                guard let end = ends[position.partition], position.offset.rawValue >= end else { continue }
                positions[position.partition] = end
                ends[position.partition] = nil
            }
            if !batch.isEmpty || !batch.partitionsAtEnd.isEmpty {
                lastProgress = ContinuousClock.now
            } else if ContinuousClock.now - lastProgress > .seconds(30) {
                throw TopicReadError(partitions: ends.keys.sorted().map { "\(topic)[\($0)]" })
            }
            if !records.isEmpty { return records }
        }
        return nil
    }

    func close() async {
        await consumer.close()
    }
}
