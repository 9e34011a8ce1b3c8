import BaocuoDomain
import BaocuoKafka
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Settings of one router worker (CONTRACT §8 `baocuo run`).
public struct RouterOptions: Sendable {
    /// Bootstrap brokers, a comma-separated `host:port` list.
    public var brokers: String
    /// The consumer group of the router fleet.
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
    /// Idempotent producers the outputs are spread over (see ``OutputDelivery``).
    public var producers: Int

    /// Options with the defaults of `BaocuoSettings` (1 MiB records, 2 producers, 200 ms commits).
    public init(
        brokers: String, group: String, pollBatchSize: Int = 16_000, maxInFlightRecords: Int = 64_000,
        commitInterval: Duration = .milliseconds(200), kafkaProperties: [String: String] = [:],
        drainTimeout: Duration = .milliseconds(BaocuoSettings.Lifecycle().drainTimeoutMs), maxRecordBytes: Int = 1 << 20,
        producers: Int = 2
    ) {
        self.maxRecordBytes = maxRecordBytes
        self.producers = producers
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

    /// Rules starting with `router`.
    public init(_ router: RecordRouter) {
        current = Mutex(router)
    }

    /// The router of the current rules.
    public var router: RecordRouter { current.withLock { $0 } }

    /// Makes `router` current (SIGHUP reload); batches being routed finish with the previous one.
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
    private let metricsFactory: any MetricsFactory
    private let metrics: RouterMetrics
    private let events: RouterEvents
    private let stopRequested = Atomic<Bool>(false)
    /// When the first stop request arrived: the stop's deadline counts from it.
    private let stopRequestedAt = Mutex<ContinuousClock.Instant?>(nil)

    /// `metricsFactory`: where the worker's metrics go; the bootstrapped backend unless a test
    /// isolates them.
    public init(
        options: RouterOptions, rules: RouterRules, logger: Logger, events: RouterEvents = RouterEvents(),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.options = options
        self.rules = rules
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.metrics = RouterMetrics(factory: metricsFactory)
        self.events = events
    }

    /// Asks the worker to stop as after SIGTERM (used by in-process tests and the demo).
    public func requestStop() {
        stopRequestedAt.withLock { $0 = $0 ?? .now }
        stopRequested.store(true, ordering: .relaxed)
    }

    /// The whole stop — drain, final commit, leaving the group — ends by this instant, whatever
    /// the brokers do: `drainTimeout` + ``BaocuoSettings/Lifecycle/stopMarginMs`` after the stop
    /// request, less a reserve so that it finishes before `baocuo run`'s watchdog gives up.
    private var stopDeadline: ContinuousClock.Instant {
        let requested = stopRequestedAt.withLock { $0 } ?? .now
        return requested + options.drainTimeout + .milliseconds(BaocuoSettings.Lifecycle.stopMarginMs - Self.stopReserveMs)
    }

    /// Kept back from the watchdog's bound for the last log line and the exit.
    static let stopReserveMs = 500

    /// Consumes and routes until a graceful shutdown or cancellation, then drains, commits and leaves
    /// the group. Throws ``RouterError`` when an output cannot be delivered (nothing past it is committed).
    public func run() async throws {
        let inputTopic = rules.router.topics.failures
        logger.info(
            "router starting",
            metadata: [
                "group": "\(options.group)", "topic": "\(inputTopic)", "librdkafka": "\(librdkafkaVersion)",
                "producers": "\(options.producers)",
            ])
        let delivery = try OutputDelivery(
            configuration: OutputDelivery.producerConfiguration(
                brokers: options.brokers, clientID: clientID,
                maxRecordBytes: options.maxRecordBytes, overrides: options.kafkaProperties),
            producers: options.producers, logger: logger, metrics: metrics
        )
        let rebalance = RebalanceListener(
            tracker: delivery.tracker, logger: logger, drainTimeout: options.drainTimeout,
            onAssignment: events.onAssignment)
        let statistics = StatisticsMetrics(factory: metricsFactory, group: options.group, onBrokerState: events.onBrokerState)
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(),
            topics: [inputTopic],
            logger: logger,
            rebalanceHandler: rebalance,
            statisticsHandler: statistics.submit
        )
        rebalance.attach(consumer)
        var failure: Error?
        do {
            // A graceful shutdown (SIGTERM) and a cancellation (the service group cancelled because
            // another service failed) both end the loop the same way: drain, commit, leave. A loop
            // that ignored cancellation kept a cancelled group, and the process, running deaf.
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await self.consumeLoop(consumer: consumer, delivery: delivery)
                } onGracefulShutdown: {
                    self.requestStop()
                }
            } onCancel: {
                self.requestStop()
            }
        } catch {
            failure = error
        }
        events.stopping()
        if !stopRequested.load(ordering: .relaxed) { requestStop() }  // a failure: the deadline starts now
        // Whatever stopped the loop, commit what is safely done, then leave the group — each step
        // bounded, so that brokers that do not answer cannot hold the stop past its deadline.
        let deadline = stopDeadline
        logger.info(
            "router draining: waiting for the outputs of consumed records, then the final commit",
            metadata: [
                "inFlightRecords": "\(delivery.tracker.inFlightRecords)",
                "sinceStopRequest": "\(ContinuousClock.now - (stopRequestedAt.withLock { $0 } ?? .now))",
            ])
        let finalCommitReserve: Duration = .milliseconds(1000)
        let drained = await delivery.drain(timeout: min(options.drainTimeout, max(.zero, deadline - .now - finalCommitReserve)))
        let unacknowledged = delivery.tracker.inFlightRecords
        let commit = await delivery.commitFrontier(
            consumer: consumer, partitions: nil,
            timeout: max(.milliseconds(100), (deadline - .now) * 0.5))
        rebalance.stopping(
            RebalanceListener.StopMode(
                skipCommit: !commit.succeeded,
                commitTimeout: max(.zero, (deadline - .now) * 0.25)))
        let closed = await consumer.close(timeout: max(.zero, (deadline - .now) * 0.5))
        // The drain is over: whatever is still queued is failed, not waited for.
        await delivery.close(timeout: max(.milliseconds(10), (deadline - .now) * 0.5))
        // The last line says what was and was not committed.
        var metadata: Logger.Metadata = ["stopAfter": "\(ContinuousClock.now - (stopRequestedAt.withLock { $0 } ?? .now))"]
        if !drained || unacknowledged > 0 { metadata["unacknowledgedRecords"] = "\(unacknowledged)" }
        if !closed { metadata["groupLeft"] = "false (the coordinator did not answer; the group notices at the session timeout)" }
        switch commit {
        case .committed(let partitions):
            metadata["committedPartitions"] = "\(partitions)"
        case .failed(let partitions, let error):
            metadata["uncommittedPartitions"] = "\(partitions)"
            metadata["commitError"] = "\(error)"
        }
        if let failure {
            metadata["error"] = "\(failure)"
            logger.error(
                "router stopped on an error; records after the last committed offsets will be routed again by the fleet",
                metadata: metadata)
            throw failure
        }
        if commit.succeeded && unacknowledged == 0 {
            logger.info("router stopped: every routed record is committed", metadata: metadata)
        } else if commit.succeeded {
            logger.warning(
                """
                router stopped: the acknowledged records are committed; those with unacknowledged outputs are not \
                and will be routed again
                """, metadata: metadata)
        } else {
            logger.warning(
                """
                router stopped without committing: the final commit failed; records after the last committed offsets \
                will be routed again
                """, metadata: metadata)
        }
    }

    private func consumeLoop(consumer: KafkaConsumer, delivery: OutputDelivery) async throws {
        var outputs = OutputBatch()
        var lastCommit = ContinuousClock.now
        while !stopRequested.load(ordering: .relaxed) && !Task.isCancelled {
            if let error = delivery.failure {
                throw RouterError.deliveryFailed(error)
            }
            if delivery.tracker.inFlightRecords >= options.maxInFlightRecords {
                // Backpressure: let acknowledgements catch up before fetching more. A cancelled sleep
                // returns at once; the loop then sees the stop request.
                try? await Task.sleep(for: .milliseconds(1))
                continue
            }
            let batch = try await consumer.poll(maxMessages: options.pollBatchSize, timeout: .milliseconds(100))
            events.polled(receivedRecords: !batch.isEmpty)
            if !batch.isEmpty {
                try route(batch, outputs: &outputs, delivery: delivery)
            }
            let now = ContinuousClock.now
            if now - lastCommit >= options.commitInterval {
                lastCommit = now
                // Bounded, and given up at a stop request: the final commit follows at once.
                let outcome = await delivery.commitFrontier(
                    consumer: consumer, partitions: nil, timeout: Self.commitTimeout,
                    giveUp: { [self] in stopRequested.load(ordering: .relaxed) })
                if case .failed(_, let error) = outcome, !stopRequested.load(ordering: .relaxed) {
                    logger.warning("offset commit failed; will retry", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func route(_ batch: ConsumedBatch, outputs: inout OutputBatch, delivery: OutputDelivery) throws {
        let router = rules.router
        var tally = RouteTally()
        let wallClock = { Timestamp(millisecondsSinceEpoch: WallClock.nowMilliseconds()) }
        try delivery.produce(batch, outputs: &outputs) { message, outputs in
            let source = SourcePosition(
                topic: message.topic, partition: message.partition, offset: message.offset,
                timestampMs: message.timestampMs ?? WallClock.nowMilliseconds())
            let summary = message.withKey { key in
                message.withValue { value in
                    router.route(
                        key: key, value: value, source: source, headers: { message.headers },
                        failedAt: wallClock, into: &outputs)
                }
            }
            tally.add(summary)
        }
        metrics.record(tally, consumed: batch.count)
    }

    /// The longest a periodic commit holds the poll loop.
    static let commitTimeout: Duration = .seconds(5)

    private var clientID: String { "baocuo-router-\(ProcessIdentity.hostAndPID)" }

    /// The consumer's settings, `options.kafkaProperties` applied last.
    func consumerConfiguration() -> ConsumerConfiguration {
        ConsumerConfiguration(
            bootstrapServers: options.brokers,
            groupID: options.group,
            clientID: clientID,
            autoOffsetReset: .earliest,
            // Incremental rebalancing (cooperative-sticky) on librdkafka ≥ 2.4: a member joining or
            // leaving moves only the partitions that change owner, and the others keep flowing; the
            // RebalanceListener drains and commits exactly the revoked ones. Eager on older libraries
            // (2.0.2 has a lag-spike bug with cooperative-sticky). kafka.properties may choose either.
            assignmentStrategy: .preferred,
            // librdkafka's mock cluster (2.0.2) holds an empty fetch for the whole wait even when records
            // arrive meanwhile; 50 ms put p99 ingest-to-ack at ~100 ms at 10k/s, 5 ms at ~48 ms
            // (BENCHMARKS.md "Decision log"). A real broker answers as soon as records arrive either way;
            // the cost of 5 ms is an idle worker's ~200 empty fetches/s per broker (raise it in
            // kafka.properties).
            fetchWaitMax: .milliseconds(5),
            // Consumer lag, broker RTT and broker states for /metrics and /health/ready.
            statisticsInterval: .seconds(5),
            overrides: options.kafkaProperties
        )
    }
}

/// Why a worker stopped on its own.
public enum RouterError: Error, CustomStringConvertible {
    /// An output was not acknowledged: the worker stops without committing past its input.
    case deliveryFailed(KafkaError)

    /// What went wrong and that the worker stopped without committing past it.
    public var description: String {
        switch self {
        case .deliveryFailed(let error):
            "an output could not be delivered (\(error)); stopping without committing past it"
        }
    }
}

/// Counts of one batch, applied to the metrics at once instead of per record.
struct RouteTally {
    var routedByCategory: [Category: Int] = [:]
    var routedByOwner: [String: Int] = [:]
    var rejected: [RejectCode: Int] = [:]
    var copies = 0

    mutating func add(_ summary: RouteSummary) {
        switch summary {
        case .routed(let category, let owner, let copies):
            routedByCategory[category, default: 0] += 1
            routedByOwner[owner, default: 0] += 1
            self.copies += copies
        case .deadLettered(let code):
            rejected[code, default: 0] += 1
        }
    }
}

/// Hooks for the health endpoint and tests.
public struct RouterEvents: Sendable {
    /// After every poll; `true` when it returned records, which proves a broker answered.
    public var onPoll: @Sendable (_ receivedRecords: Bool) -> Void
    /// The number of partitions assigned, after every rebalance.
    public var onAssignment: @Sendable (Int) -> Void
    /// After every statistics report (`statistics.interval.ms`): whether any broker connection is up.
    public var onBrokerState: @Sendable (_ anyBrokerUp: Bool) -> Void
    /// When the worker stops consuming, whatever the reason, before the final commit.
    public var onStopping: @Sendable () -> Void

    /// Hooks that do nothing unless given.
    public init(
        onPoll: @escaping @Sendable (Bool) -> Void = { _ in }, onAssignment: @escaping @Sendable (Int) -> Void = { _ in },
        onBrokerState: @escaping @Sendable (Bool) -> Void = { _ in }, onStopping: @escaping @Sendable () -> Void = {}
    ) {
        self.onPoll = onPoll
        self.onAssignment = onAssignment
        self.onBrokerState = onBrokerState
        self.onStopping = onStopping
    }

    func polled(receivedRecords: Bool) { onPoll(receivedRecords) }
    func stopping() { onStopping() }
}
