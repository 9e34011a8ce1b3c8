import BaocuoKafka
import Synchronization

/// Tracks, per input partition, which consumed records still wait for acknowledgements of their
/// outputs, and the commit frontier: the offset below which every record's outputs are all
/// acknowledged. Only the frontier is ever committed, so a crash can repeat work but never skip it
/// (at-least-once).
///
/// Acknowledgements arrive on the producer's delivery thread while the router thread begins new
/// records, hence the lock. A record is identified to the producer by a token that packs its
/// partition slot and its sequence number, so acknowledging allocates nothing.
public final class OffsetTracker: Sendable {
    private static let sequenceBits: UInt64 = 44
    private static let sequenceMask: UInt64 = (1 << sequenceBits) - 1
    private static let slotMask: UInt64 = (1 << 18) - 1
    /// Set on the token of a record's first output (its owner copy or dead letter): acknowledging
    /// that one returns the record's ingest timestamp, for the ingest-to-acknowledgement latency.
    public static let firstOutputFlag: UInt64 = 1 << 62

    fileprivate struct Slot {
        var partition: TopicPartition
        /// Sequence number of `pendingOutputs[0]`.
        var baseSequence: UInt64 = 0
        /// Outputs still unacknowledged, per record in consumption order, from `head` on.
        var pendingOutputs: [Int32] = []
        var offsets: [Int64] = []
        /// The records' ingest timestamps (ms since the epoch), as given to `begin`.
        var ingestedAtMs: [Int64] = []
        var head = 0
        /// Next offset to commit; nil until a record is complete.
        var frontier: Int64?
        var reportedFrontier: Int64?
        var failed = false
    }

    private struct State {
        var slots: [Slot] = []
        var slotIndex: [TopicPartition: Int] = [:]
        var inFlightRecords = 0
        /// The partition of the last `begin` and its slot: a poll returns runs of one partition's
        /// records, and comparing is far cheaper than hashing the topic name for every record.
        /// Slots are never removed (see `forget`), so the pair stays valid.
        var lastPartition: TopicPartition?
        var lastSlot = 0
    }

    private let state = Mutex(State())

    /// A tracker with no partitions and nothing in flight.
    public init() {}

    /// Records currently waiting for acknowledgements, across partitions.
    public var inFlightRecords: Int { state.withLock { $0.inFlightRecords } }

    /// Starts tracking a consumed record that will produce `outputs` records and returns the token
    /// to attach to each of them. A record with no outputs (one a replay skips) completes at once, so
    /// the frontier can pass it. Offsets of one partition must be begun in increasing order.
    public func begin(_ partition: TopicPartition, offset: Int64, ingestedAtMs: Int64 = 0, outputs: Int) -> UInt64 {
        precondition(outputs >= 0, "a negative output count")
        return state.withLock { state in
            let slotNumber: Int
            if state.lastPartition == partition {
                slotNumber = state.lastSlot
            } else if let existing = state.slotIndex[partition] {
                slotNumber = existing
            } else {
                slotNumber = state.slots.count
                precondition(UInt64(slotNumber) <= Self.slotMask, "more partitions than a token can address")
                state.slots.append(Slot(partition: partition))
                state.slotIndex[partition] = slotNumber
            }
            state.lastPartition = partition
            state.lastSlot = slotNumber
            let (sequence, completed) = state.slots[slotNumber].begin(offset: offset, ingestedAtMs: ingestedAtMs, outputs: Int32(outputs))
            state.inFlightRecords += 1 - completed
            return UInt64(slotNumber) << Self.sequenceBits | sequence
        }
    }

    /// One output of the record behind `token` was acknowledged (or failed for good). Returns the
    /// record's ingest timestamp when `token` carries ``firstOutputFlag`` and the output was delivered.
    @discardableResult
    public func acknowledge(_ token: UInt64, failed: Bool = false) -> Int64? {
        let slotNumber = Int(token >> Self.sequenceBits & Self.slotMask)
        let sequence = token & Self.sequenceMask
        return state.withLock { state in
            let (completed, ingestedAtMs) = state.slots[slotNumber].acknowledge(sequence: sequence, failed: failed)
            state.inFlightRecords -= completed
            return token & Self.firstOutputFlag != 0 && !failed ? ingestedAtMs : nil
        }
    }

    /// Frontiers that moved since the last call: the offsets to commit now.
    public func takeCommittableOffsets() -> [TopicPartitionOffset] {
        state.withLock { state in
            var result: [TopicPartitionOffset] = []
            for index in state.slots.indices {
                if let frontier = state.slots[index].frontier, frontier != state.slots[index].reportedFrontier {
                    state.slots[index].reportedFrontier = frontier
                    result.append(TopicPartitionOffset(state.slots[index].partition, offset: KafkaOffset(frontier)))
                }
            }
            return result
        }
    }

    /// A commit of these frontiers failed: offer them again with the next `takeCommittableOffsets`.
    public func commitFailed(_ offsets: [TopicPartitionOffset]) {
        state.withLock { state in
            for offset in offsets {
                guard let index = state.slotIndex[offset.topicPartition],
                    state.slots[index].reportedFrontier == offset.offset.rawValue
                else { continue }
                state.slots[index].reportedFrontier = nil
            }
        }
    }

    /// Every frontier known, moved or not (for the final commit of revoked partitions).
    public func frontiers(of partitions: Set<TopicPartition>) -> [TopicPartitionOffset] {
        state.withLock { state in
            partitions.compactMap { partition in
                guard let index = state.slotIndex[partition], let frontier = state.slots[index].frontier else { return nil }
                return TopicPartitionOffset(partition, offset: KafkaOffset(frontier))
            }
        }
    }

    /// Records of `partitions` still waiting for acknowledgements.
    public func pendingRecords(in partitions: Set<TopicPartition>) -> Int {
        state.withLock { state in
            partitions.reduce(0) { sum, partition in
                guard let index = state.slotIndex[partition] else { return sum }
                let slot = state.slots[index]
                return sum + slot.pendingOutputs.count - slot.head
            }
        }
    }

    /// Partitions whose outputs failed permanently: their frontier stops before the failed record.
    public var failedPartitions: [TopicPartition] {
        state.withLock { state in state.slots.filter(\.failed).map(\.partition) }
    }

    /// Forgets partitions after they were revoked and their frontier committed. Their slots are
    /// reset rather than removed so tokens of other partitions stay valid.
    public func forget(_ partitions: Set<TopicPartition>) {
        state.withLock { state in
            for partition in partitions {
                guard let index = state.slotIndex[partition] else { continue }
                let slot = state.slots[index]
                state.inFlightRecords -= slot.pendingOutputs.count - slot.head
                state.slots[index] = Slot(partition: partition, baseSequence: slot.baseSequence + UInt64(slot.pendingOutputs.count))
            }
        }
    }
}

extension OffsetTracker.Slot {
    /// Returns the record's sequence number and how many records completed with it (a record
    /// without outputs completes when every record before it has).
    mutating func begin(offset: Int64, ingestedAtMs: Int64, outputs: Int32) -> (sequence: UInt64, completed: Int) {
        let sequence = baseSequence + UInt64(pendingOutputs.count)
        pendingOutputs.append(outputs)
        offsets.append(offset)
        self.ingestedAtMs.append(ingestedAtMs)
        return (sequence, outputs == 0 && !failed ? advanceFrontier() : 0)
    }

    /// Returns how many records completed (left the in-flight window) because of this acknowledgement,
    /// and the record's ingest timestamp (nil for a record forgotten on revoke).
    mutating func acknowledge(sequence: UInt64, failed: Bool) -> (completed: Int, ingestedAtMs: Int64?) {
        // An acknowledgement for a record forgotten on revoke: nothing to do.
        guard sequence >= baseSequence, sequence < baseSequence + UInt64(pendingOutputs.count) else { return (0, nil) }
        let index = Int(sequence - baseSequence)
        let ingestedAtMs = ingestedAtMs[index]
        if failed { self.failed = true }
        pendingOutputs[index] -= 1
        guard !self.failed else { return (0, ingestedAtMs) }
        return (advanceFrontier(), ingestedAtMs)
    }

    /// Moves the frontier past every leading record whose outputs are all acknowledged.
    private mutating func advanceFrontier() -> Int {
        var completed = 0
        while head < pendingOutputs.count, pendingOutputs[head] == 0 {
            frontier = offsets[head] + 1
            head += 1
            completed += 1
        }
        if head >= 4096, head * 2 >= pendingOutputs.count {
            pendingOutputs.removeFirst(head)
            offsets.removeFirst(head)
            ingestedAtMs.removeFirst(head)
            baseSequence += UInt64(head)
            head = 0
        }
        return completed
    }
}
