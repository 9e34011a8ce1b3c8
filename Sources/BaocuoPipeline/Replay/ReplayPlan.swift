import BaocuoDomain
import BaocuoKafka
import Logging

/// The offsets a replay reads, per partition, resolved against the cluster and the group's checkpoint.
public struct ReplayPlan: Sendable {
    /// One partition's part of the plan.
    public struct PartitionRange: Sendable, Equatable {
        /// The partition of the source topic.
        public var partition: Int32
        /// The first offset of the range.
        public var start: Int64
        /// One past the last offset of the range (exclusive).
        public var end: Int64
        /// Where this run starts reading: `start`, or the checkpoint of an interrupted run.
        public var from: Int64

        /// The range `start..<end` of `partition`, read from `from`.
        public init(partition: Int32, start: Int64, end: Int64, from: Int64) {
            self.partition = partition
            self.start = start
            self.end = end
            self.from = from
        }

        /// Offsets this run still has to read.
        public var remaining: Int64 { max(0, end - from) }
        /// An interrupted run's checkpoint moved the start.
        public var isResumed: Bool { from > start }
    }

    /// The source topic.
    public var topic: String
    /// The replay's consumer group, whose committed offsets are the checkpoint.
    public var group: String
    /// The run id, written in the `baocuo.replay.id` header and in withdrawn records.
    public var runID: String
    /// The ranges to read, one per selected partition.
    public var partitions: [PartitionRange]
    /// How the time range was found: nil for offset selections.
    public var timeLookup: TimeLookup?

    /// How a time selection was turned into offsets.
    public enum TimeLookup: Sendable, Equatable {
        /// The broker's offsetsForTimes narrowed each partition's range.
        case offsetsForTimes
        /// The broker's offsetsForTimes answers are not real lookups (librdkafka's mock, 2.0.2 and 2.16,
        /// answers "end" for every time; tansu 0.6 answers the first offset for every time): whole
        /// partitions are scanned, filtered on record timestamps.
        case scanFallback

        /// A time far beyond any record's timestamp (year 2286), asked for by the probe.
        public static let farFutureMs: Int64 = 10_000_000_000_000

        /// Judges a broker by its answers to two lookups per non-empty partition (`start..<end` its
        /// watermarks): at the epoch, a real lookup answers an offset inside the partition (its first
        /// record's); far in the future, it answers "no such record" (a negative logical offset, or
        /// the end). A broker answering "end" for every time fails the first; one answering the
        /// earliest offset for every time fails the second. No non-empty partition: nothing to judge.
        public static func judge(
            partitions: [(partition: Int32, start: Int64, end: Int64)],
            atEpoch: [TopicPartitionOffset], atFarFuture: [TopicPartitionOffset]
        ) -> TimeLookup {
            let epoch = Dictionary(atEpoch.map { ($0.partition, $0.offset.rawValue) }, uniquingKeysWith: { first, _ in first })
            let future = Dictionary(atFarFuture.map { ($0.partition, $0.offset.rawValue) }, uniquingKeysWith: { first, _ in first })
            for range in partitions where range.end > range.start {
                guard let first = epoch[range.partition], first >= range.start, first < range.end else { return .scanFallback }
                guard let none = future[range.partition], none < 0 || none >= range.end else { return .scanFallback }
            }
            return .offsetsForTimes
        }
    }

    /// The broker's offsetsForTimes: for each entry (whose `offset` is a timestamp in ms), the first
    /// offset at or after it. ``resolve(_:logger:offsetsForTimes:)`` takes another one for tests.
    public typealias OffsetsForTimes = @Sendable ([TopicPartitionOffset]) async throws -> [TopicPartitionOffset]

    /// Offsets this run has left to read.
    public var remaining: Int64 { partitions.reduce(0) { $0 + $1.remaining } }
    /// The partitions whose start an earlier interrupted run's checkpoint moved.
    public var resumedPartitions: [PartitionRange] { partitions.filter(\.isResumed) }

    /// Resolves `options.selection` on the cluster; reads the checkpoint of `options.group` unless
    /// `options.restart`. Commits nothing.
    /// `offsetsForTimes` replaces the broker's lookup (tests: a broker that answers it for real).
    public static func resolve(_ options: ReplayOptions, logger: Logger, offsetsForTimes: OffsetsForTimes? = nil) async throws -> ReplayPlan
    {
        try options.validateGroup()
        let configuration = ConsumerConfiguration(
            bootstrapServers: options.brokers, groupID: options.group,
            overrides: options.consumerOverrides)
        let consumer = try KafkaConsumer(configuration: configuration, assignment: [], logger: logger)
        return try await consumer.closing { consumer in
            let lookup: OffsetsForTimes = offsetsForTimes ?? { query in try await consumer.offsetsForTimes(query) }
            return try await resolve(options, consumer: consumer, offsetsForTimes: lookup)
        }
    }

    private static func resolve(_ options: ReplayOptions, consumer: KafkaConsumer, offsetsForTimes: OffsetsForTimes) async throws
        -> ReplayPlan
    {
        let topic = options.sourceTopic
        guard let metadata = try await consumer.metadata().first(where: { $0.name == topic }) else {
            throw ReplayError.unknownTopic(topic)
        }
        var numbers = (0..<Int32(metadata.partitions)).map { $0 }
        if case .offsets(let partition?, _, _) = options.selection.range {
            guard numbers.contains(partition) else { throw ReplayError.unknownPartition(topic, partition) }
            numbers = [partition]
        }
        var ranges: [PartitionRange] = []
        for partition in numbers {
            let marks = try await consumer.watermarks(topic: topic, partition: partition)
            ranges.append(PartitionRange(partition: partition, start: marks.low, end: marks.high, from: marks.low))
        }
        var timeLookup: TimeLookup?
        switch options.selection.range {
        case .offsets(_, let start, let end):
            for index in ranges.indices {
                let low = ranges[index].start
                let high = ranges[index].end
                ranges[index].start = min(max(start ?? low, low), high)
                ranges[index].end = max(min(end ?? high, high), ranges[index].start)
            }
        case .time(let since, let until):
            timeLookup = try await probeOffsetsForTimes(topic: topic, ranges: ranges, offsetsForTimes: offsetsForTimes)
            if timeLookup == .offsetsForTimes {
                let starts = try await offsets(at: since, topic: topic, ranges: ranges, offsetsForTimes: offsetsForTimes)
                let ends = try await offsets(at: until, topic: topic, ranges: ranges, offsetsForTimes: offsetsForTimes)
                for index in ranges.indices {
                    ranges[index].start = starts[index]
                    ranges[index].end = max(ends[index], starts[index])
                }
            }
        case .all:
            break
        }
        let checkpoint = options.restart ? [:] : try await committedOffsets(topic: topic, ranges: ranges, consumer: consumer)
        for index in ranges.indices {
            ranges[index].from = ranges[index].start
            guard let committed = checkpoint[ranges[index].partition], committed > ranges[index].start else { continue }
            ranges[index].from = min(committed, ranges[index].end)
        }
        return ReplayPlan(
            topic: topic, group: options.group, runID: options.runID,
            partitions: ranges.filter { $0.end > $0.start }, timeLookup: timeLookup)
    }

    /// Asks every non-empty partition for the first offset at or after the epoch and after a time
    /// far in the future, and judges the answers (``TimeLookup/judge(partitions:atEpoch:atFarFuture:)``).
    private static func probeOffsetsForTimes(topic: String, ranges: [PartitionRange], offsetsForTimes: OffsetsForTimes) async throws
        -> TimeLookup
    {
        let nonEmpty = ranges.filter { $0.end > $0.start }
        guard !nonEmpty.isEmpty else { return .offsetsForTimes }
        let atEpoch = try await offsetsForTimes(nonEmpty.map { TopicPartitionOffset(topic: topic, partition: $0.partition, offset: 0) })
        let atFarFuture = try await offsetsForTimes(
            nonEmpty.map {
                TopicPartitionOffset(topic: topic, partition: $0.partition, offset: KafkaOffset(TimeLookup.farFutureMs))
            })
        return TimeLookup.judge(partitions: nonEmpty.map { ($0.partition, $0.start, $0.end) }, atEpoch: atEpoch, atFarFuture: atFarFuture)
    }

    /// The first offset at or after `time` per range; a partition with no such record ends at its high watermark.
    private static func offsets(
        at time: Timestamp, topic: String, ranges: [PartitionRange],
        offsetsForTimes: OffsetsForTimes
    ) async throws -> [Int64] {
        let answers = try await offsetsForTimes(
            ranges.map {
                TopicPartitionOffset(topic: topic, partition: $0.partition, offset: KafkaOffset(time.millisecondsSinceEpoch))
            })
        let byPartition = Dictionary(answers.map { ($0.partition, $0.offset.rawValue) }, uniquingKeysWith: { first, _ in first })
        return ranges.map { range in
            guard let offset = byPartition[range.partition], offset >= 0 else { return range.end }
            return min(max(offset, range.start), range.end)
        }
    }

    private static func committedOffsets(topic: String, ranges: [PartitionRange], consumer: KafkaConsumer) async throws -> [Int32: Int64] {
        guard !ranges.isEmpty else { return [:] }
        let committed = try await consumer.committed(ranges.map { TopicPartition(topic: topic, partition: $0.partition) })
        let positions = committed.compactMap { entry in entry.offset.position.map { (entry.partition, $0) } }
        return Dictionary(positions, uniquingKeysWith: { first, _ in first })
    }
}
