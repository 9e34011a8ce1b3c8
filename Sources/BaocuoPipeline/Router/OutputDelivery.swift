import BaocuoKafka
import Logging
import Synchronization

/// The delivery half shared by the router worker and replay: produces the outputs of routed records
/// through one idempotent producer and tracks, per input partition, the commit frontier — the offset
/// below which every input's outputs are acknowledged. Only the frontier is ever committed, so a
/// crash can repeat work but never skip it (at-least-once).
final class OutputDelivery: Sendable {
    let tracker = OffsetTracker()
    let producer: KafkaProducer
    private let metrics: RouterMetrics
    private let logger: Logger
    private let firstFailure = FirstFailure()
    private let latencySample = LatencySample()

    /// `properties`: the producer's librdkafka properties (see ``producerProperties(brokers:clientID:maxRecordBytes:overrides:)``).
    init(properties: [String: String], logger: Logger, metrics: RouterMetrics) throws(KafkaError) {
        self.metrics = metrics
        self.logger = logger
        producer = try KafkaProducer(
            configuration: KafkaConfiguration(properties),
            logger: logger,
            deliveryHandler: { [tracker, firstFailure, latencySample, metrics] report in
                if let started = latencySample.take(token: report.token) {
                    metrics.produceLatency.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
                }
                if let error = report.error {
                    firstFailure.record(error)
                    tracker.acknowledge(report.token, failed: true)
                    metrics.deliveryFailures.increment()
                } else {
                    tracker.acknowledge(report.token)
                }
            }
        )
    }

    /// The first output that could not be delivered, if any: nothing after it may be committed.
    var failure: KafkaError? { firstFailure.first }

    /// Routes every message with `route` (which appends the message's outputs to `outputs`, or
    /// appends nothing to skip it), starts tracking each message, and enqueues all outputs.
    /// One output per call is timed from produce to acknowledgement (`baocuo_produce_latency_seconds`).
    func produce<Messages: Collection<ConsumedMessage>>(_ messages: Messages, outputs: inout OutputBatch,
                                                        route: (ConsumedMessage, inout OutputBatch) -> Void) throws {
        outputs.removeAll()
        var tokens: [UInt64] = []
        tokens.reserveCapacity(messages.count)
        for message in messages {
            let firstOutput = outputs.records.count
            route(message, &outputs)
            let token = tracker.begin(message.topicPartition, offset: message.offset, outputs: outputs.records.count - firstOutput)
            for _ in firstOutput..<outputs.records.count { tokens.append(token) }
        }
        if let first = tokens.first { latencySample.start(token: first) }
        for index in outputs.records.indices {
            let record = outputs.records[index]
            try outputs.withBytes(of: index) { key, value in
                try producer.produce(topic: record.topic, key: key, value: value, headers: record.headers,
                                     timestampMs: record.timestampMs, token: tokens[index])
            }
        }
    }

    /// Waits until every produced output is acknowledged (or the timeout passes).
    func drain(timeout: Duration) async {
        do {
            try await producer.flush(timeout: timeout)
        } catch {
            logger.error("outputs not all acknowledged before the deadline; their records stay uncommitted", metadata: ["error": "\(error)"])
        }
    }

    /// Commits the frontier of `partitions` (every frontier that moved when nil). Returns whether the
    /// commit succeeded; a failure is not fatal: the frontier is offered again at the next interval,
    /// and a crash meanwhile repeats work, never skips it.
    @discardableResult
    func commitFrontier(consumer: KafkaConsumer, partitions: Set<TopicPartition>?) async -> Bool {
        let offsets = partitions.map(tracker.frontiers(of:)) ?? tracker.takeCommittableOffsets()
        guard !offsets.isEmpty else { return true }
        do {
            try await consumer.commit(offsets.map { TopicPartitionOffset(topic: $0.0.topic, partition: $0.0.partition, offset: $0.1) })
            metrics.commits.increment()
            return true
        } catch {
            if partitions == nil { tracker.commitFailed(offsets) }
            logger.warning("offset commit failed; will retry", metadata: ["error": "\(error)"])
            metrics.commitFailures.increment()
            return false
        }
    }

    /// The producer properties of Baocuo's output producers, `overrides` (TLS, SASL, …) applied last;
    /// consumer-only settings of a shared property map are left out.
    static func producerProperties(brokers: String, clientID: String, maxRecordBytes: Int, overrides: [String: String]) -> [String: String] {
        var properties = [
            "bootstrap.servers": brokers,
            "client.id": clientID,
            // Idempotence: broker-side retries never duplicate or reorder an output.
            "enable.idempotence": "true",
            "linger.ms": "5",
            "batch.num.messages": "10000",
            "queue.buffering.max.messages": "500000",
            // Outputs embed the input report (up to the 1 MiB record limit) plus the routing fields.
            "message.max.bytes": String(maxRecordBytes + 64 * 1024),
        ]
        properties.merge(overrides.filter { !consumerOnly.contains($0.key) }) { _, configured in configured }
        return properties
    }

    /// Consumer settings a shared property map may carry that a producer rejects or warns about.
    static let consumerOnly: Set<String> = [
        "group.id", "session.timeout.ms", "heartbeat.interval.ms", "auto.offset.reset", "enable.auto.commit",
        "enable.auto.offset.store", "partition.assignment.strategy", "fetch.wait.max.ms", "max.poll.interval.ms",
        "fetch.min.bytes", "fetch.max.bytes", "max.partition.fetch.bytes", "isolation.level", "group.instance.id",
        "enable.partition.eof",
    ]
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
            guard sampledToken.compareExchange(expected: token, desired: Self.none, ordering: .acquiringAndReleasing).exchanged else { return nil }
            defer { started = nil }
            return started
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
