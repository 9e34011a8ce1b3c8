import CRdKafka
import Dispatch
import Logging
import Synchronization

/// Told about rebalances of a group consumer.
///
/// Both methods run synchronously on the consumer's poll thread, inside
/// ``KafkaConsumer/poll(maxMessages:timeout:)`` or ``KafkaConsumer/close()``, *before* the
/// assignment changes. On revoke the partitions are still owned: finish in-flight work and
/// commit with ``KafkaConsumer/commitSynchronously(_:)`` before returning.
///
/// Eager protocol (`range`, `roundrobin`): a rebalance revokes the whole assignment, then assigns
/// the new one. Cooperative protocol (`cooperative-sticky`, librdkafka ≥ 2.4): both lists are
/// *increments* — only the partitions that move are revoked, only new ones are assigned; the
/// rest stay owned and keep being consumed throughout.
public protocol KafkaRebalanceHandler: Sendable {
    func partitionsAssigned(_ partitions: [TopicPartition])
    func partitionsRevoked(_ partitions: [TopicPartition])
}

/// A Kafka consumer: a member of a consumer group (eager or, on librdkafka ≥ 2.4, incremental
/// rebalancing) or a manually assigned reader.
///
/// Blocking librdkafka calls never run on the cooperative pool: polling (and the rebalance
/// handler inside it) runs on the consumer's poll thread, committed/watermark/metadata
/// queries on a second thread.
///
/// At-least-once use: poll, process, then ``commit(_:)`` the offset of the *next* message to
/// read once the processing of everything before it is complete (from a rebalance handler,
/// ``commitSynchronously(_:)``).
public final class KafkaConsumer: Sendable {
    private enum State {
        case open(NativeClient)
        /// `rd_kafka_consumer_close` is running: the final revoke may still store and commit.
        case closing(NativeClient)
        case closed
    }

    private let state: Mutex<State>
    /// Runs poll and close, one at a time: close waits for a running poll.
    private let pollQueue = DispatchQueue(label: "baocuo.kafka.consumer.poll")
    /// Runs blocking queries, so that they do not wait behind a poll.
    private let queryQueue = DispatchQueue(label: "baocuo.kafka.consumer.query")
    private let topicNames = TopicNameCache()
    private let logger: Logger

    /// Joins consumer group ``ConsumerConfiguration/groupID`` and subscribes to `topics`
    /// (see ``init(configuration:topics:logger:rebalanceHandler:statisticsHandler:)``).
    public convenience init(
        configuration: ConsumerConfiguration,
        topics: [String],
        logger: Logger,
        rebalanceHandler: (any KafkaRebalanceHandler)? = nil,
        statisticsHandler: (@Sendable (String) -> Void)? = nil
    ) throws(KafkaError) {
        try self.init(
            configuration: configuration.properties, topics: topics, logger: logger,
            rebalanceHandler: rebalanceHandler, statisticsHandler: statisticsHandler)
    }

    /// Reads exactly `assignment` without joining a group
    /// (see ``init(configuration:assignment:logger:statisticsHandler:)``).
    public convenience init(
        configuration: ConsumerConfiguration,
        assignment: [TopicPartitionOffset],
        logger: Logger,
        statisticsHandler: (@Sendable (String) -> Void)? = nil
    ) throws(KafkaError) {
        try self.init(
            configuration: configuration.properties, assignment: assignment, logger: logger,
            statisticsHandler: statisticsHandler)
    }

    /// Joins consumer group `group.id` and subscribes to `topics`.
    ///
    /// Defaults added unless configured: `enable.auto.offset.store=false` (a consumed offset is
    /// never committed implicitly: callers commit the offsets they processed) and
    /// `partition.assignment.strategy=range,roundrobin`.
    /// `cooperative-sticky` is refused on librdkafka older than 2.4
    /// (``RebalanceProtocol/cooperativeMinimumVersion``): 2.0.2 has lag-spike bugs with it.
    public init(
        configuration: KafkaConfiguration,
        topics: [String],
        logger: Logger,
        rebalanceHandler: (any KafkaRebalanceHandler)? = nil,
        statisticsHandler: (@Sendable (String) -> Void)? = nil
    ) throws(KafkaError) {
        guard configuration[PropertyName.groupID] != nil else {
            throw KafkaError(code: .invalidArgument, message: "a group consumer needs group.id")
        }
        let configuredStrategy = configuration[PropertyName.assignmentStrategy].map(PartitionAssignmentStrategy.init(rawValue:))
        if configuredStrategy?.isCooperative == true, !RebalanceProtocol.cooperativeSupported {
            throw KafkaError(
                code: .invalidArgument,
                message: "cooperative rebalancing is unreliable on librdkafka \(librdkafkaVersion) (before 2.4); "
                    + "use range or roundrobin")
        }
        let effective = configuration.withDefaults([
            PropertyName.enableAutoOffsetStore: "false",
            PropertyName.assignmentStrategy: PartitionAssignmentStrategy.eager.rawValue,
        ])
        let context = CallbackContext(
            logger: logger, statisticsHandler: statisticsHandler, rebalanceHandler: rebalanceHandler,
            cooperative: configuredStrategy?.isCooperative == true)
        let client = try NativeClient(
            type: RD_KAFKA_CONSUMER,
            configuration: effective,
            context: context
        ) { conf in rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback) }
        let subscription = NativePartitionList.make(topics.map { TopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) })
        defer { rd_kafka_topic_partition_list_destroy(subscription) }
        try rd_kafka_subscribe(client.handle, subscription).check("subscribe")
        self.state = Mutex(.open(client))
        self.logger = logger
    }

    /// Reads exactly `assignment` (each partition from its offset, which may be logical such
    /// as ``KafkaOffset/beginning``), without joining a group. If `group.id` is
    /// configured, ``commit(_:)`` and ``committed(_:timeout:)`` use that group.
    public init(
        configuration: KafkaConfiguration,
        assignment: [TopicPartitionOffset],
        logger: Logger,
        statisticsHandler: (@Sendable (String) -> Void)? = nil
    ) throws(KafkaError) {
        let context = CallbackContext(logger: logger, statisticsHandler: statisticsHandler)
        let client = try NativeClient(
            type: RD_KAFKA_CONSUMER,
            // librdkafka has no consumer queue without a group.id; an assigned reader never joins
            // the group, so a fixed default is harmless.
            configuration: configuration.withDefaults([
                PropertyName.enableAutoOffsetStore: "false", PropertyName.groupID: "baocuo-assigned-reader",
            ]),
            context: context
        )
        let list = NativePartitionList.make(assignment)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try rd_kafka_assign(client.handle, list).check("assign")
        self.state = Mutex(.open(client))
        self.logger = logger
    }

    /// Waits up to `timeout` for a first message, then returns it with whatever else has arrived,
    /// at most `maxMessages` (none when the timeout passed).
    /// Rebalance callbacks run inside this call.
    ///
    /// - Throws: ``KafkaErrorCode/clientClosed`` after close, or the consumer's fatal error.
    ///   Other per-message errors are logged and skipped; end-of-partition events are
    ///   returned in ``ConsumedBatch/partitionsAtEnd``.
    public func poll(maxMessages: Int, timeout: Duration) async throws(KafkaError) -> ConsumedBatch {
        precondition(maxMessages > 0, "maxMessages must be positive")
        return try await pollQueue.run { [self] () throws(KafkaError) -> ConsumedBatch in
            let client = try self.client(allowClosing: false)
            if let fatal = client.context.fatalError { throw fatal }
            return try self.consumeBatch(client, maxMessages: maxMessages, timeout: timeout)
        }
    }

    /// Runs on the poll queue.
    private func consumeBatch(_ client: NativeClient, maxMessages: Int, timeout: Duration) throws(KafkaError) -> ConsumedBatch {
        // rd_kafka_consume_batch_queue waits until the batch is *full* or the timeout passes, which
        // would hold a caught-up worker's records for the whole timeout: wait for the first message
        // only, then take whatever else has arrived without waiting. The buffer is sized to what is
        // queued, not to `maxMessages`: a caught-up worker polls often, for a few messages each time.
        let first = rd_kafka_consume_queue(client.queue, timeout.kafkaMilliseconds)
        let capacity = first == nil ? 0 : min(maxMessages, 1 + Int(rd_kafka_queue_length(client.queue)))
        let buffer = UnsafeMutableBufferPointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
        var received = 0
        if let first {
            buffer[0] = first
            received = 1
            if capacity > 1 {
                let more = rd_kafka_consume_batch_queue(client.queue, 0, buffer.baseAddress! + 1, capacity - 1)
                if more < 0 {
                    rd_kafka_message_destroy(first)
                    buffer.deallocate()
                    throw KafkaError(rd_kafka_last_error(), context: "consume")
                }
                received += more
            }
        }
        // Compact in place: keep data messages, turn events into markers or log lines.
        var kept = 0
        var topics: [String] = []
        topics.reserveCapacity(received)
        var partitionsAtEnd: [TopicPartitionOffset] = []
        for index in 0..<received {
            let message = buffer[index]!
            let err = message.pointee.err
            if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                buffer[kept] = message
                topics.append(topicNames.name(of: message.pointee.rkt))
                kept += 1
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            let topic = message.pointee.rkt.map { topicNames.name(of: $0) } ?? ""
            if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                partitionsAtEnd.append(
                    TopicPartitionOffset(
                        topic: topic, partition: message.pointee.partition,
                        offset: KafkaOffset(message.pointee.offset)))
            } else {
                let text = String(cString: rd_kafka_message_errstr(message))
                logger.warning(
                    "consumer error",
                    metadata: [
                        "kafka.error": "\(KafkaErrorCode(err).name): \(text)", "kafka.topic": "\(topic)",
                        "kafka.partition": "\(message.pointee.partition)",
                    ]
                )
            }
        }
        if let fatal = client.context.fatalError {
            for index in 0..<kept { rd_kafka_message_destroy(buffer[index]) }
            buffer.deallocate()
            throw fatal
        }
        let messages = UnsafeMutableBufferPointer(rebasing: buffer[0..<kept])
        return ConsumedBatch(client: client, messages: messages, topics: topics, partitionsAtEnd: partitionsAtEnd)
    }

    /// Commits `offsets`, or every stored offset when `nil`, and waits for the broker.
    public func commit(_ offsets: [TopicPartitionOffset]? = nil) async throws(KafkaError) {
        let client = try client(allowClosing: true)
        try await queryQueue.run { () throws(KafkaError) in try Self.commit(client, offsets) }
    }

    /// Like ``commit(_:)`` but blocks the calling thread: for a ``KafkaRebalanceHandler``,
    /// which must commit before it returns.
    public func commitSynchronously(_ offsets: [TopicPartitionOffset]? = nil) throws(KafkaError) {
        try Self.commit(try client(allowClosing: true), offsets)
    }

    private static func commit(_ client: NativeClient, _ offsets: [TopicPartitionOffset]?) throws(KafkaError) {
        let list = offsets.map(NativePartitionList.make)
        defer { list.map(rd_kafka_topic_partition_list_destroy) }
        let result = rd_kafka_commit(client.handle, list, 0)
        // Nothing stored since the last commit is not a failure.
        if result == RD_KAFKA_RESP_ERR__NO_OFFSET { return }
        try result.check("commit")
        if let list, let error = NativePartitionList.firstError(list) { throw error }
    }

    /// Like ``commit(_:)``, but waits at most `timeout`, or until `giveUp` returns true (checked
    /// every 50 ms): with the group coordinator unreachable, librdkafka's commit waits for it for
    /// tens of seconds. A commit given up on may still complete later; the error says it did not
    /// complete in time (code ``KafkaErrorCode/timedOut``).
    public func commit(
        _ offsets: [TopicPartitionOffset]?, timeout: Duration,
        giveUp: @escaping @Sendable () -> Bool = { false }
    ) async throws(KafkaError) {
        let client = try client(allowClosing: true)
        try await DispatchQueue.global().run { () throws(KafkaError) in
            try Self.bounded(on: self.queryQueue, timeout: timeout, what: "commit", giveUp: giveUp) { () throws(KafkaError) in
                try Self.commit(client, offsets)
            }
        }
    }

    /// ``commitSynchronously(_:)`` waiting at most `timeout` (a rebalance handler during a stop).
    public func commitSynchronously(_ offsets: [TopicPartitionOffset]?, timeout: Duration) throws(KafkaError) {
        let client = try client(allowClosing: true)
        try Self.bounded(on: queryQueue, timeout: timeout, what: "commit") { () throws(KafkaError) in
            try Self.commit(client, offsets)
        }
    }

    /// Runs `work` on `queue` and waits for it at most `timeout` (or until `giveUp`); the work
    /// itself cannot be interrupted and finishes on its own.
    static func bounded(
        on queue: DispatchQueue, timeout: Duration, what: String, giveUp: @escaping @Sendable () -> Bool = { false },
        _ work: @escaping @Sendable () throws(KafkaError) -> Void
    ) throws(KafkaError) {
        let outcome = Mutex<Result<Void, KafkaError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        queue.async {
            let result = Result { () throws(KafkaError) in try work() }
            outcome.withLock { $0 = result }
            done.signal()
        }
        let deadline = ContinuousClock.now + timeout
        while true {
            if done.wait(timeout: .now() + .milliseconds(50)) == .success { break }
            if ContinuousClock.now >= deadline || giveUp() {
                throw KafkaError(
                    code: .timedOut, message: "\(what) did not complete within \(timeout) (group coordinator or brokers unreachable?)")
            }
        }
        try outcome.withLock { $0 }!.get()
    }

    /// The group's committed offsets for `partitions` (``KafkaOffset/invalid`` when
    /// nothing is committed).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [TopicPartitionOffset]
    {
        let client = try client(allowClosing: false)
        return try await queryQueue.run { () throws(KafkaError) in
            let list = NativePartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try rd_kafka_committed(client.handle, list, timeout.kafkaMilliseconds).check("committed offsets")
            if let error = NativePartitionList.firstError(list) { throw error }
            return NativePartitionList.offsets(list)
        }
    }

    /// The partition's low watermark (oldest offset) and high watermark (next offset to be
    /// written), queried from the leader.
    public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(10)) async throws(KafkaError) -> (
        low: Int64, high: Int64
    ) {
        let client = try client(allowClosing: false)
        let marks: [Int64] = try await queryQueue.run { () throws(KafkaError) in
            var low: Int64 = 0
            var high: Int64 = 0
            try rd_kafka_query_watermark_offsets(client.handle, topic, partition, &low, &high, timeout.kafkaMilliseconds)
                .check("watermarks of \(topic)[\(partition)]")
            return [low, high]
        }
        return (marks[0], marks[1])
    }

    /// For each entry (whose `offset` is a timestamp in ms), the earliest offset whose
    /// timestamp is at or after it (``KafkaOffset/end`` when there is none).
    ///
    /// - Important: librdkafka 2.0.2's mock cluster ignores the timestamp and answers
    ///   ``KafkaOffset/end`` for every lookup, without an error. On the mock, replay
    ///   by time must scan from the beginning and filter on ``ConsumedMessage/timestampMs``.
    public func offsetsForTimes(
        _ query: [TopicPartitionOffset],
        timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [TopicPartitionOffset] {
        let client = try client(allowClosing: false)
        return try await queryQueue.run { () throws(KafkaError) in
            let list = NativePartitionList.make(query)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try rd_kafka_offsets_for_times(client.handle, list, timeout.kafkaMilliseconds).check("offsets for times")
            if let error = NativePartitionList.firstError(list) { throw error }
            return NativePartitionList.offsets(list)
        }
    }

    /// All topics in the cluster with their partition counts.
    public func metadata(timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicMetadata] {
        let client = try client(allowClosing: false)
        return try await queryQueue.run { () throws(KafkaError) in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            try rd_kafka_metadata(client.handle, 1, nil, &metadata, timeout.kafkaMilliseconds).check("metadata")
            defer { rd_kafka_metadata_destroy(metadata) }
            let topics = UnsafeBufferPointer(start: metadata!.pointee.topics, count: Int(metadata!.pointee.topic_cnt))
            return topics.map { TopicMetadata(name: String(cString: $0.topic), partitions: Int($0.partition_cnt)) }
        }
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        let client = try client(allowClosing: true)
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try rd_kafka_assignment(client.handle, &list).check("assignment")
        defer { list.map(rd_kafka_topic_partition_list_destroy) }
        return NativePartitionList.partitions(list)
    }

    /// Leaves the group (the final revoke reaches the rebalance handler first), waits for a
    /// running poll, and releases the handle. Idempotent; later calls throw
    /// ``KafkaErrorCode/clientClosed``.
    public func close() async {
        let logger = logger
        await pollQueue.run { [self] () -> Void in
            let client: NativeClient? = state.withLock { state in
                guard case .open(let client) = state else { return nil }
                state = .closing(client)
                return client
            }
            guard let client else { return }
            let result = rd_kafka_consumer_close(client.handle)
            if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("consumer close", metadata: ["kafka.error": "\(KafkaError(result))"])
            }
            state.withLock { $0 = .closed }
        }
    }

    /// Runs `body` with this consumer, then closes it, whether `body` returned or threw (Swift has
    /// no `defer` that can await).
    public func closing<Result>(after body: (KafkaConsumer) async throws -> Result) async throws -> Result {
        let result: Result
        do {
            result = try await body(self)
        } catch {
            await close()
            throw error
        }
        await close()
        return result
    }

    /// Like ``close()``, but returns after `timeout` even if librdkafka is still leaving the group
    /// (every broker down: the final revoke and the LeaveGroup wait for a coordinator). Returns
    /// whether the close completed; if not, the handle is left to the process's exit.
    public func close(timeout: Duration) async -> Bool {
        let finished = Atomic<Bool>(false)
        let closing = Task { [self] in
            await close()
            finished.store(true, ordering: .sequentiallyConsistent)
        }
        let deadline = ContinuousClock.now + timeout
        while !finished.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        _ = closing
        return finished.load(ordering: .sequentiallyConsistent)
    }

    /// The live handle; the returned reference keeps it alive for the caller's C call.
    private func client(allowClosing: Bool) throws(KafkaError) -> NativeClient {
        try state.withLock { (state) throws(KafkaError) -> NativeClient in
            switch state {
            case .open(let client): return client
            case .closing(let client) where allowClosing: return client
            case .closing, .closed: throw KafkaError.closed("consumer")
            }
        }
    }
}

/// The rebalance protocols a group consumer can use, and which one this librdkafka supports.
public enum RebalanceProtocol: String, Sendable {
    case eager = "EAGER"
    case cooperative = "COOPERATIVE"

    /// librdkafka 2.4 fixed the cooperative-sticky bugs 2.0.2 has (lag spikes after a rebalance).
    public static let cooperativeMinimumVersion: Int32 = 0x0204_0000
    /// Whether the loaded librdkafka is new enough for cooperative-sticky.
    public static var cooperativeSupported: Bool { librdkafkaVersionNumber >= cooperativeMinimumVersion }

    /// The assignment strategy a router worker uses unless configured
    /// (``PartitionAssignmentStrategy/preferred``).
    public static var defaultRouterStrategy: String { PartitionAssignmentStrategy.preferred.rawValue }
}

/// Tell the handler first, then change the assignment: the whole of it (eager protocol) or the
/// increment (cooperative protocol).
private let rebalanceCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
    ) -> Void = { handle, reason, partitions, opaque in
        let context = CallbackContext.from(opaque)
        let changed = NativePartitionList.partitions(partitions)
        // By the configured assignor, not only by rd_kafka_rebalance_protocol: while the consumer
        // closes, 2.16 may answer NONE for a cooperative group (librdkafka refuses mixing eager and
        // cooperative assignors, so the configuration decides the protocol).
        let cooperative =
            context.cooperative
            || rd_kafka_rebalance_protocol(handle).map { String(cString: $0) } == RebalanceProtocol.cooperative.rawValue
        func apply(_ error: OpaquePointer?, _ what: String) {
            guard let error else { return }
            context.logger.error("\(what) failed", metadata: ["kafka.error": "\(KafkaError(consuming: error))"])
        }
        // Debug level: the rebalance handler (the router's RebalanceListener) logs the change at info,
        // with what it committed; one line per rebalance, not two.
        switch reason {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            context.logger.debug(
                "partitions assigned", metadata: ["kafka.partitions": "\(changed)", "kafka.incremental": "\(cooperative)"])
            context.rebalanceHandler?.partitionsAssigned(changed)
            if cooperative {
                apply(rd_kafka_incremental_assign(handle, partitions), "incremental assign")
            } else {
                rd_kafka_assign(handle, partitions)
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            context.logger.debug("partitions revoked", metadata: ["kafka.partitions": "\(changed)", "kafka.incremental": "\(cooperative)"])
            context.rebalanceHandler?.partitionsRevoked(changed)
            if cooperative {
                apply(rd_kafka_incremental_unassign(handle, partitions), "incremental unassign")
            } else {
                rd_kafka_assign(handle, nil)
            }
        default:
            context.logger.error("rebalance failed", metadata: ["kafka.error": "\(KafkaError(reason))"])
            if cooperative {
                apply(rd_kafka_incremental_unassign(handle, partitions), "incremental unassign")
            } else {
                rd_kafka_assign(handle, nil)
            }
        }
    }
