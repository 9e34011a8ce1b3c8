import BaocuoDomain
import BaocuoKafka
import Logging
import Synchronization

/// The delivery half shared by the router worker and replay: produces the outputs of routed records
/// through idempotent producers and tracks, per input partition, the commit frontier — the offset
/// below which every input's outputs are acknowledged. Only the frontier is ever committed, so a
/// crash can repeat work but never skip it (at-least-once).
///
/// Outputs are spread over `producers` by topic, each topic always through the same producer, so a
/// partition's outputs keep their order. Why more than one: an idempotent producer allows 5 requests
/// in flight per broker connection, and librdkafka 2.0.2 sends one partition per produce request,
/// so ~1,600 inbox partitions queue behind 5 slots per broker (BENCHMARKS.md "Decision log").
final class OutputDelivery: Sendable {
    let tracker = OffsetTracker()
    private let producers: [KafkaProducer]
    private let metrics: RouterMetrics
    private let logger: Logger
    private let firstFailure = FirstFailure()
    private let latencySample = LatencySample()

    /// `configuration`: the producers' settings (see ``producerConfiguration(brokers:clientID:maxRecordBytes:overrides:)``);
    /// with more than one producer, each client id gets the producer's number.
    init(configuration: ProducerConfiguration, producers count: Int, logger: Logger, metrics: RouterMetrics) throws(KafkaError) {
        precondition(count >= 1, "at least one producer")
        self.metrics = metrics
        self.logger = logger
        let deliveryHandler: @Sendable (DeliveryReport) -> Void = { [tracker, firstFailure, latencySample, metrics] report in
            if let started = latencySample.take(token: report.token) {
                metrics.produceLatency.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            }
            if let error = report.error {
                firstFailure.record(error)
                tracker.acknowledge(report.token, failed: true)
                metrics.deliveryFailures.increment()
            } else if let ingestedAtMs = tracker.acknowledge(report.token) {
                metrics.ingestToAcknowledged.recordNanoseconds(max(0, WallClock.nowNanoseconds() - ingestedAtMs * 1_000_000))
            }
        }
        producers = try (0..<count).map { (index: Int) throws(KafkaError) -> KafkaProducer in
            var configuration = configuration
            if count > 1, let clientID = configuration.clientID { configuration.clientID = "\(clientID)-\(index + 1)" }
            return try KafkaProducer(configuration: configuration, logger: logger, deliveryHandler: deliveryHandler)
        }
    }

    /// The producer of `topic`'s outputs: chosen by the topic's name, so it stays the same across
    /// rule and region reloads (which renumber destinations) and a partition's outputs keep their order.
    private func producer(for topic: String) -> KafkaProducer {
        producers[Self.producerIndex(topic: topic, producers: producers.count)]
    }

    static func producerIndex(topic: String, producers: Int) -> Int {
        Int(StableHash.fnv1a(topic) % UInt64(producers))
    }

    /// Closes every producer; ``drain(timeout:)`` first waits for what they hold.
    /// Closes the producers side by side; `timeout` bounds each one's flush of what is still queued
    /// (then the rest is purged and failed).
    func close(timeout: Duration = .seconds(10)) async {
        await withTaskGroup(of: Void.self) { group in
            for producer in producers { group.addTask { await producer.close(timeout: timeout) } }
        }
    }

    /// The first output that could not be delivered, if any: nothing after it may be committed.
    var failure: KafkaError? { firstFailure.first }

    /// Routes every message with `route` (which appends the message's outputs to `outputs`, or
    /// appends nothing to skip it), starts tracking each message, and enqueues all outputs.
    /// One output per call is timed from produce to acknowledgement (`baocuo_produce_latency_seconds`);
    /// every message's first output from the message's timestamp to its acknowledgement
    /// (`baocuo_ingest_to_ack_seconds`).
    func produce<Messages: Collection<ConsumedMessage>>(
        _ messages: Messages, outputs: inout OutputBatch,
        route: (ConsumedMessage, inout OutputBatch) -> Void
    ) throws {
        outputs.removeAll()
        var tokens: [UInt64] = []
        tokens.reserveCapacity(messages.count)
        for message in messages {
            let firstOutput = outputs.records.count
            route(message, &outputs)
            let token = tracker.begin(
                message.topicPartition, offset: message.offset,
                ingestedAtMs: message.timestampMs ?? WallClock.nowMilliseconds(),
                outputs: outputs.records.count - firstOutput)
            for output in firstOutput..<outputs.records.count {
                tokens.append(output == firstOutput ? token | OffsetTracker.firstOutputFlag : token)
            }
        }
        if let first = tokens.first { latencySample.start(token: first) }
        // Enqueued one destination after another, a partition's outputs of the whole batch arrive
        // within a fraction of `linger.ms` and leave in one produce request: with ~1,600 inbox
        // partitions, enqueueing in input order would send nearly one request per output.
        outputs.grouping.group(outputs.records)
        let order = outputs.grouping.order
        let records = outputs.records
        try outputs.withRecordBytes { bytes in
            var start = 0
            while start < order.count {
                let first = records[order[start]]
                guard first.isPlain else {
                    // Dead letters keep their headers and timestamp: one produce call each.
                    let (key, value) = bytes(first)
                    try producer(for: first.topic).produce(
                        topic: first.topic, key: key, value: value, headers: first.headers,
                        timestampMs: first.timestampMs, token: tokens[order[start]])
                    start += 1
                    continue
                }
                var end = start + 1
                while end < order.count, records[order[end]].destination == first.destination, records[order[end]].isPlain {
                    end += 1
                }
                // A destination's plain copies: one call for the run.
                try producer(for: first.topic).produceBatch(topic: first.topic, count: end - start) { batch in
                    for position in start..<end {
                        let index = order[position]
                        let (key, value) = bytes(records[index])
                        batch.initializeElement(at: position - start, to: KafkaBatchRecord(key: key, value: value, token: tokens[index]))
                    }
                }
                start = end
            }
        }
    }

    /// Waits until every produced output is acknowledged (or the timeout passes).
    @discardableResult
    func drain(timeout: Duration) async -> Bool {
        do {
            // The producers flush side by side: the deadline is shared, not multiplied.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for producer in producers { group.addTask { try await producer.flush(timeout: timeout) } }
                try await group.waitForAll()
            }
        } catch {
            logger.error(
                "outputs not all acknowledged before the deadline; their records stay uncommitted", metadata: ["error": "\(error)"])
            return false
        }
        return true
    }

    /// What a commit of the frontier did.
    enum CommitOutcome {
        /// Committed, or nothing had moved since the last commit.
        case committed(partitions: Int)
        /// Refused or not answered in time: the offsets are offered again at the next commit.
        case failed(partitions: Int, KafkaError)

        var succeeded: Bool { if case .committed = self { true } else { false } }
    }

    /// Commits the frontier of `partitions` (every frontier that moved when nil), waiting at most
    /// `timeout` or until `giveUp` (a stop request: the final commit follows). A failure is not
    /// fatal: the frontier is offered again at the next interval, and a crash meanwhile repeats
    /// work, never skips it.
    @discardableResult
    func commitFrontier(
        consumer: KafkaConsumer, partitions: Set<TopicPartition>?, timeout: Duration,
        giveUp: @escaping @Sendable () -> Bool = { false }
    ) async -> CommitOutcome {
        let offsets = partitions.map(tracker.frontiers(of:)) ?? tracker.takeCommittableOffsets()
        guard !offsets.isEmpty else { return .committed(partitions: 0) }
        do {
            try await consumer.commit(offsets, timeout: timeout, giveUp: giveUp)
            metrics.commits.increment()
            return .committed(partitions: offsets.count)
        } catch {
            if partitions == nil { tracker.commitFailed(offsets) }
            metrics.commitFailures.increment()
            return .failed(partitions: offsets.count, error)
        }
    }

    /// The settings of Baocuo's output producers (idempotent, as every producer is by default),
    /// `overrides` (TLS, SASL, …) applied last; consumer-only settings of a shared map are left out.
    static func producerConfiguration(
        brokers: String, clientID: String, maxRecordBytes: Int,
        overrides: [String: String]
    ) -> ProducerConfiguration {
        ProducerConfiguration(
            bootstrapServers: brokers,
            clientID: clientID,
            linger: .milliseconds(5),
            batchSize: 10_000,
            maxQueuedRecords: 500_000,
            // Outputs embed the input report (up to the 1 MiB record limit) plus the routing fields.
            maxMessageBytes: maxRecordBytes + 64 * 1024,
            overrides: overrides
        )
    }
}

/// A stable counting sort of a batch's outputs by destination: the order keeps the consumption
/// order within each destination, so per-partition (and per-key) order is unchanged.
struct DestinationGrouping {
    private(set) var order: [Int] = []
    private var starts: [Int] = []

    mutating func group(_ records: [OutputBatch.Record]) {
        let destinationCount = (records.lazy.map(\.destination).max() ?? -1) + 1
        starts.removeAll(keepingCapacity: true)
        starts.append(contentsOf: repeatElement(0, count: destinationCount + 1))
        for record in records { starts[record.destination + 1] += 1 }
        for destination in 0..<destinationCount { starts[destination + 1] += starts[destination] }
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: repeatElement(0, count: records.count))
        for (index, record) in records.enumerated() {
            order[starts[record.destination]] = index
            starts[record.destination] += 1
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

/// One output being timed from produce to acknowledgement. A new batch's sample replaces an
/// unacknowledged one, so a stuck record costs one sample, not the histogram. Every acknowledgement
/// checks the token; only the sampled one takes the lock.
final class LatencySample: Sendable {
    private static let none = UInt64.max
    private let sampledToken = Atomic<UInt64>(LatencySample.none)
    private let startedAt = Mutex<ContinuousClock.Instant?>(nil)

    func start(token: UInt64) {
        let now = ContinuousClock.now
        startedAt.withLock { started in
            started = now
            sampledToken.store(token, ordering: .releasing)
        }
    }

    /// The start of the sample if `token` is the one being timed (outputs of one record share a token:
    /// the first acknowledgement ends the sample).
    func take(token: UInt64) -> ContinuousClock.Instant? {
        guard sampledToken.load(ordering: .acquiring) == token else { return nil }
        return startedAt.withLock { started in
            guard sampledToken.compareExchange(expected: token, desired: Self.none, ordering: .acquiringAndReleasing).exchanged else {
                return nil
            }
            defer { started = nil }
            return started
        }
    }
}
