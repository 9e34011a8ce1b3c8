import BaocuoKafka
import BaocuoPipeline
import Testing

struct OffsetTrackerTests {
    let partition = TopicPartition(topic: "in", partition: 0)

    @Test func theFirstOutputsAcknowledgementReturnsTheIngestTimestamp() {
        let tracker = OffsetTracker()
        let token = tracker.begin(partition, offset: 0, ingestedAtMs: 1_234, outputs: 3)
        let failing = tracker.begin(TopicPartition(topic: "in", partition: 1), offset: 0, ingestedAtMs: 99, outputs: 1)
        #expect(tracker.acknowledge(token) == nil, "only the first output is timed")
        #expect(tracker.acknowledge(token | OffsetTracker.firstOutputFlag) == 1_234)
        #expect(tracker.acknowledge(failing | OffsetTracker.firstOutputFlag, failed: true) == nil, "a failed output is not a delivery")
        tracker.acknowledge(token)
        #expect(tracker.takeCommittableOffsets().map(\.offset) == [1], "the flag does not change which record is acknowledged")
    }

    @Test func theFrontierMovesOnlyOverFullyAcknowledgedRecords() {
        let tracker = OffsetTracker()
        let first = tracker.begin(partition, offset: 10, outputs: 2)
        let second = tracker.begin(partition, offset: 11, outputs: 1)
        tracker.acknowledge(second)
        #expect(tracker.takeCommittableOffsets().isEmpty, "offset 11 is done but 10 is not")
        tracker.acknowledge(first)
        #expect(tracker.takeCommittableOffsets().isEmpty, "10 still waits for its second output")
        tracker.acknowledge(first)
        let offsets = tracker.takeCommittableOffsets()
        #expect(offsets.count == 1 && offsets[0].offset == 12)
        #expect(tracker.inFlightRecords == 0)
        #expect(tracker.takeCommittableOffsets().isEmpty, "an unchanged frontier is not offered twice")
    }

    @Test func aFailedOutputFreezesItsPartition() {
        let tracker = OffsetTracker()
        let first = tracker.begin(partition, offset: 0, outputs: 1)
        let second = tracker.begin(partition, offset: 1, outputs: 1)
        tracker.acknowledge(first)
        tracker.acknowledge(second, failed: true)
        let third = tracker.begin(partition, offset: 2, outputs: 1)
        tracker.acknowledge(third)
        #expect(tracker.takeCommittableOffsets().map(\.offset) == [1], "never past the failed record")
        #expect(tracker.failedPartitions == [partition])
    }

    /// `begin` remembers the last partition's slot: runs, alternation, another topic with the same
    /// partition number and a revoke in between must each still reach their own partition.
    @Test func recordsOfAlternatingPartitionsReachTheirOwnFrontiers() {
        let tracker = OffsetTracker()
        let other = TopicPartition(topic: "in", partition: 1)
        let otherTopic = TopicPartition(topic: "in2", partition: 0)
        var tokens: [(TopicPartition, UInt64)] = []
        for (index, target) in [partition, partition, other, partition, otherTopic, otherTopic, other].enumerated() {
            tokens.append((target, tracker.begin(target, offset: Int64(100 + index), outputs: 1)))
        }
        for (_, token) in tokens { tracker.acknowledge(token) }
        let frontiers = Dictionary(uniqueKeysWithValues: tracker.takeCommittableOffsets().map { ($0.topicPartition, $0.offset) })
        #expect(frontiers == [partition: 104, other: 107, otherTopic: 106])
        tracker.forget([partition])
        tracker.acknowledge(tracker.begin(partition, offset: 200, outputs: 1))
        tracker.acknowledge(tracker.begin(other, offset: 201, outputs: 1))
        let moved = Dictionary(uniqueKeysWithValues: tracker.takeCommittableOffsets().map { ($0.topicPartition, $0.offset) })
        #expect(moved == [partition: 201, other: 202])
        #expect(tracker.inFlightRecords == 0)
    }

    @Test func aFailedCommitIsOfferedAgain() {
        let tracker = OffsetTracker()
        tracker.acknowledge(tracker.begin(partition, offset: 5, outputs: 1))
        let offsets = tracker.takeCommittableOffsets()
        #expect(offsets.map(\.offset) == [6])
        tracker.commitFailed(offsets)
        #expect(tracker.takeCommittableOffsets().map(\.offset) == [6])
    }

    @Test func partitionsAreTrackedIndependentlyAndForgottenOnRevoke() {
        let tracker = OffsetTracker()
        let other = TopicPartition(topic: "in", partition: 1)
        let pending = tracker.begin(partition, offset: 0, outputs: 1)
        tracker.acknowledge(tracker.begin(other, offset: 7, outputs: 1))
        #expect(tracker.pendingRecords(in: [partition]) == 1)
        #expect(tracker.pendingRecords(in: [other]) == 0)
        #expect(tracker.frontiers(of: [other]).map(\.offset) == [8])
        tracker.forget([partition])
        #expect(tracker.inFlightRecords == 0)
        tracker.acknowledge(pending)  // a late acknowledgement of a forgotten record is ignored
        #expect(tracker.frontiers(of: [partition]).isEmpty)
    }
}
