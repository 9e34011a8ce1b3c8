import BaocuoDomain
import BaocuoKafka
import Logging
import ServiceLifecycle
import Synchronization

/// Settings of one router worker (CONTRACT §8 `baocuo run`).
public struct RouterOptions: Sendable {
    public var brokers: String
    public var group: String
    /// Records per poll.
    public var pollBatchSize: Int
    /// Consumed records whose outputs are not all acknowledged yet; polling waits above this.
    public var maxInFlightRecords: Int
    /// How often the commit frontier is committed while running.
    public var commitInterval: Duration
    /// librdkafka properties for both clients (TLS, SASL, …), applied over Baocuo's defaults.
    public var kafkaProperties: [String: String]
    /// SIGTERM budget for draining in-flight outputs and the final commit (the contract allows 10 s).
    public var drainTimeout: Duration
    /// The largest input record (CONTRACT §2 limit); outputs may be slightly larger.
    public var maxRecordBytes: Int

    public init(brokers: String, group: String, pollBatchSize: Int = 2000, maxInFlightRecords: Int = 20000,
                commitInterval: Duration = .milliseconds(200), kafkaProperties: [String: String] = [:],
                drainTimeout: Duration = .seconds(8), maxRecordBytes: Int = 1 << 20) {
        self.maxRecordBytes = maxRecordBytes
        self.brokers = brokers
        self.group = group
        self.pollBatchSize = pollBatchSize
        self.maxInFlightRecords = maxInFlightRecords
        self.commitInterval = commitInterval
        self.kafkaProperties = kafkaProperties
        self.drainTimeout = drainTimeout
    }
}

/// The current routing rules; replaced whole when the rules or the region table are reloaded.
public final class RouterRules: Sendable {
    private let current: Mutex<RecordRouter>

    public init(_ router: RecordRouter) {
        current = Mutex(router)
    }

    public var router: RecordRouter { current.withLock { $0 } }

    public func replace(with router: RecordRouter) {
        current.withLock { $0 = router }
    }
}

/// A router worker of the fleet: consumes the ingest topic in the consumer group, routes every
/// record, and commits an input offset only once every output of every record before it is
/// acknowledged by the broker (at-least-once; see README "Delivery guarantees").
public final class RouterWorker: Service, Sendable {
    private let options: RouterOptions
    private let rules: RouterRules
    private let logger: Logger
    private let metrics: RouterMetrics
    private let events: RouterEvents
    private let tracker = OffsetTracker()
    private let deliveryFailure = FirstFailure()
    private let stopRequested = Atomic<Bool>(false)

    public init(options: RouterOptions, rules: RouterRules, logger: Logger, events: RouterEvents = RouterEvents()) {
        self.options = options
        self.rules = rules
        self.logger = logger
        self.metrics = RouterMetrics()
        self.events = events
    }

    /// Asks the worker to stop as after SIGTERM (used by in-process tests and the demo).
    public func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    public func run() async throws {
        let inputTopic = rules.router.topics.failures
        logger.info("router starting", metadata: [
            "group": "\(options.group)", "topic": "\(inputTopic)", "librdkafka": "\(librdkafkaVersion)",
        ])
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(producerProperties()),
            logger: logger,
            deliveryHandler: { [tracker, deliveryFailure, metrics] report in
                if let error = report.error {
                    deliveryFailure.record(error)
                    tracker.acknowledge(report.token, failed: true)
                    metrics.deliveryFailures.increment()
                } else {
                    tracker.acknowledge(report.token)
                }
            }
        )
        let rebalance = RebalanceListener(tracker: tracker, logger: logger, drainTimeout: options.drainTimeout,
                                          onAssignment: events.onAssignment)
        let consumer = try KafkaConsumer(
            configuration: KafkaConfiguration(consumerProperties()),
            topics: [inputTopic],
            logger: logger,
            rebalanceHandler: rebalance
        )
        rebalance.attach(consumer)
        var failure: Error?
        do {
            try await withGracefulShutdownHandler {
                try await self.consumeLoop(consumer: consumer, producer: producer)
            } onGracefulShutdown: {
                self.requestStop()
            }
        } catch {
            failure = error
        }
        events.stopping()
        // Whatever stopped the loop, commit what is safely done, then leave the group.
        await drain(producer: producer, timeout: options.drainTimeout)
        await commitFrontier(consumer: consumer, partitions: nil)
        await consumer.close()
        await producer.close()
        if let failure {
            logger.critical("router stopped on an error; uncommitted records will be routed again by the fleet", metadata: ["error": "\(failure)"])
            throw failure
        }
        logger.info("router stopped cleanly")
    }

    private func consumeLoop(consumer: KafkaConsumer, producer: KafkaProducer) async throws {
        var outputs = OutputBatch()
        var lastCommit = ContinuousClock.now
        while !stopRequested.load(ordering: .relaxed) {
            if let error = deliveryFailure.first {
                throw RouterError.deliveryFailed(error)
            }
            if tracker.inFlightRecords >= options.maxInFlightRecords {
                // Backpressure: let acknowledgements catch up before fetching more.
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            let batch = try await consumer.poll(maxMessages: options.pollBatchSize, timeout: .milliseconds(100))
            events.polled()
            if !batch.isEmpty {
                try route(batch, outputs: &outputs, producer: producer)
            }
            let now = ContinuousClock.now
            if now - lastCommit >= options.commitInterval {
                lastCommit = now
                await commitFrontier(consumer: consumer, partitions: nil)
            }
        }
    }

    private func route(_ batch: ConsumedBatch, outputs: inout OutputBatch, producer: KafkaProducer) throws {
        let router = rules.router
        outputs.removeAll()
        var tokens: [UInt64] = []
        tokens.reserveCapacity(batch.count)
        var tally = RouteTally()
        let wallClock = { Timestamp(millisecondsSinceEpoch: WallClock.nowMilliseconds()) }
        for message in batch {
            let firstOutput = outputs.records.count
            let source = SourcePosition(topic: message.topic, partition: message.partition, offset: message.offset,
                                        timestampMs: message.timestampMs ?? WallClock.nowMilliseconds())
            let summary = message.withKey { key in
                message.withValue { value in
                    router.route(key: key, value: value, source: source, headers: { message.headers },
                                 failedAt: wallClock, into: &outputs)
                }
            }
            tally.add(summary)
            let token = tracker.begin(message.topicPartition, offset: message.offset, outputs: outputs.records.count - firstOutput)
            for _ in firstOutput..<outputs.records.count { tokens.append(token) }
        }
        for index in outputs.records.indices {
            let record = outputs.records[index]
            try outputs.withBytes(of: index) { key, value in
                try producer.produce(topic: record.topic, key: key, value: value, headers: record.headers,
                                     timestampMs: record.timestampMs, token: tokens[index])
            }
        }
        metrics.record(tally, consumed: batch.count)
    }

    private var clientID: String { "baocuo-router-\(ProcessIdentity.hostAndPID)" }

    func consumerProperties() -> [String: String] {
        var properties = [
            "bootstrap.servers": options.brokers,
            "group.id": options.group,
            "client.id": clientID,
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "auto.offset.reset": "earliest",
            // Eager assignment: cooperative-sticky has a lag-spike bug before librdkafka 2.4.
            "partition.assignment.strategy": "range,roundrobin",
            "fetch.wait.max.ms": "50",
        ]
        properties.merge(options.kafkaProperties) { _, configured in configured }
        return properties
    }

    func producerProperties() -> [String: String] {
        var properties = [
            "bootstrap.servers": options.brokers,
            "client.id": clientID,
            // Idempotence: broker-side retries never duplicate or reorder an output.
            "enable.idempotence": "true",
            "linger.ms": "5",
            "batch.num.messages": "10000",
            "queue.buffering.max.messages": "500000",
            // Outputs embed the input report (up to the 1 MiB record limit) plus the routing fields.
            "message.max.bytes": String(options.maxRecordBytes + 64 * 1024),
        ]
        properties.merge(options.kafkaProperties.filter { !Self.consumerOnly.contains($0.key) }) { _, configured in configured }
        return properties
    }

    /// Consumer settings a shared property map may carry that a producer rejects or warns about.
    static let consumerOnly: Set<String> = [
        "group.id", "session.timeout.ms", "heartbeat.interval.ms", "auto.offset.reset", "enable.auto.commit",
        "enable.auto.offset.store", "partition.assignment.strategy", "fetch.wait.max.ms", "max.poll.interval.ms",
        "fetch.min.bytes", "fetch.max.bytes", "max.partition.fetch.bytes", "isolation.level", "group.instance.id",
    ]

    /// Waits until every produced output is acknowledged (or the timeout passes).
    private func drain(producer: KafkaProducer, timeout: Duration) async {
        do {
            try await producer.flush(timeout: timeout)
        } catch {
            logger.error("outputs not all acknowledged before the deadline; their records stay uncommitted", metadata: ["error": "\(error)"])
        }
    }

    /// Commits the frontier of `partitions` (all tracked partitions when nil).
    func commitFrontier(consumer: KafkaConsumer, partitions: Set<TopicPartition>?) async {
        let offsets: [(TopicPartition, Int64)]
        if let partitions {
            offsets = tracker.frontiers(of: partitions)
        } else {
            offsets = tracker.takeCommittableOffsets()
        }
        guard !offsets.isEmpty else { return }
        do {
            try await consumer.commit(offsets.map { TopicPartitionOffset(topic: $0.0.topic, partition: $0.0.partition, offset: $0.1) })
            metrics.commits.increment()
        } catch {
            // Not fatal: the frontier is offered again at the next interval; a crash meanwhile repeats
            // work, never skips it.
            if partitions == nil { tracker.commitFailed(offsets) }
            logger.warning("offset commit failed; will retry", metadata: ["error": "\(error)"])
            metrics.commitFailures.increment()
        }
    }
}

/// The first permanent delivery failure, recorded on the producer's thread, read by the loop.
final class FirstFailure: Sendable {
    private let value = Mutex<KafkaError?>(nil)

    func record(_ error: KafkaError) {
        value.withLock { if $0 == nil { $0 = error } }
    }

    var first: KafkaError? { value.withLock { $0 } }
}

public enum RouterError: Error, CustomStringConvertible {
    case deliveryFailed(KafkaError)

    public var description: String {
        switch self {
        case .deliveryFailed(let error):
            "an output could not be delivered (\(error)); stopping without committing past it"
        }
    }
}

/// Counts of one batch, applied to the metrics at once instead of per record.
struct RouteTally {
    var routed: [RouteKey: Int] = [:]
    var rejected: [RejectCode: Int] = [:]
    var copies = 0

    struct RouteKey: Hashable {
        var category: Category
        var owner: String
    }

    mutating func add(_ summary: RouteSummary) {
        switch summary {
        case .routed(let category, let owner, let copies):
            routed[RouteKey(category: category, owner: owner), default: 0] += 1
            self.copies += copies
        case .deadLettered(let code):
            rejected[code, default: 0] += 1
        }
    }
}

/// Hooks for the health endpoint and tests.
public struct RouterEvents: Sendable {
    public var onPoll: @Sendable () -> Void
    public var onAssignment: @Sendable (Int) -> Void
    public var onStopping: @Sendable () -> Void

    public init(onPoll: @escaping @Sendable () -> Void = {}, onAssignment: @escaping @Sendable (Int) -> Void = { _ in },
                onStopping: @escaping @Sendable () -> Void = {}) {
        self.onPoll = onPoll
        self.onAssignment = onAssignment
        self.onStopping = onStopping
    }

    func polled() { onPoll() }
    func stopping() { onStopping() }
}
