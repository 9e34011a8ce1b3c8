import BaocuoKafka
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes rebalances lose nothing and route nothing twice silently: before revoked partitions move
/// to another worker, wait for every output of their consumed records to be acknowledged and
/// commit their frontier synchronously. Runs on the consumer's poll thread, where blocking is
/// allowed.
final class RebalanceListener: KafkaRebalanceHandler {
    private let tracker: OffsetTracker
    private let logger: Logger
    private let drainTimeout: Duration
    private let onAssignment: @Sendable (Int) -> Void
    private let consumer = Mutex<KafkaConsumer?>(nil)
    private let assigned = Mutex<Set<TopicPartition>>([])
    /// Set when the worker stops: the final revoke (inside the consumer's close) neither waits for
    /// acknowledgements (the drain did) nor commits past the stop deadline.
    private let stop = Mutex<StopMode?>(nil)

    struct StopMode {
        /// The worker's final commit failed: the coordinator is unreachable, so do not wait for it again.
        var skipCommit: Bool
        /// The longest the revoke's commit may wait.
        var commitTimeout: Duration
    }

    init(tracker: OffsetTracker, logger: Logger, drainTimeout: Duration, onAssignment: @escaping @Sendable (Int) -> Void) {
        self.tracker = tracker
        self.logger = logger
        self.drainTimeout = drainTimeout
        self.onAssignment = onAssignment
    }

    /// The consumer exists only after the listener was handed to it.
    func attach(_ consumer: KafkaConsumer) {
        self.consumer.withLock { $0 = consumer }
    }

    var assignedPartitions: Set<TopicPartition> { assigned.withLock { $0 } }

    /// The worker is stopping: see ``StopMode``.
    func stopping(_ mode: StopMode) {
        stop.withLock { $0 = mode }
    }

    func partitionsAssigned(_ partitions: [TopicPartition]) {
        let count = assigned.withLock { set in
            set.formUnion(partitions)
            return set.count
        }
        logger.info("partitions assigned", metadata: ["count": "\(partitions.count)", "partitions": "\(Self.summary(partitions))"])
        onAssignment(count)
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        let revoked = Set(partitions)
        let stopMode = stop.withLock { $0 }
        let deadline = ContinuousClock.now + (stopMode == nil ? drainTimeout : .zero)
        while tracker.pendingRecords(in: revoked) > 0, ContinuousClock.now < deadline {
            // Acknowledgements arrive on the producer's thread; this thread may block.
            usleep(1000)
        }
        let pending = tracker.pendingRecords(in: revoked)
        let offsets = tracker.frontiers(of: revoked)
        if !offsets.isEmpty, stopMode?.skipCommit != true, let consumer = consumer.withLock({ $0 }) {
            do {
                if let stopMode {
                    try consumer.commitSynchronously(offsets, timeout: stopMode.commitTimeout)
                } else {
                    try consumer.commitSynchronously(offsets)
                }
            } catch {
                logger.warning("commit on revoke failed; the next owner repeats those records", metadata: ["error": "\(error)"])
            }
        }
        if pending > 0 {
            logger.warning(
                "revoking partitions with unacknowledged outputs; the next owner routes them again",
                metadata: ["records": "\(pending)"])
        }
        tracker.forget(revoked)
        let count = assigned.withLock { set in
            set.subtract(revoked)
            return set.count
        }
        logger.info(
            "partitions revoked",
            metadata: [
                "count": "\(partitions.count)", "committed": "\(stopMode?.skipCommit == true ? 0 : offsets.count)",
            ])
        onAssignment(count)
    }

    private static func summary(_ partitions: [TopicPartition]) -> String {
        let sorted = partitions.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        return sorted.prefix(8).map(\.description).joined(separator: ",") + (sorted.count > 8 ? ",…" : "")
    }
}
