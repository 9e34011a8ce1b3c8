import BaocuoKafka
import Synchronization
import Testing

/// Records rebalance callbacks together with the consumer's assignment at that moment.
final class RecordingRebalanceHandler: KafkaRebalanceHandler {
    struct Event: Sendable, Equatable {
        var revoked: Bool
        var partitions: Set<TopicPartition>
        /// The assignment seen from inside the callback.
        var assignmentDuringCallback: Set<TopicPartition>
    }

    let consumer = Mutex<KafkaConsumer?>(nil)
    let events = Recorder<Event>()
    /// Runs inside partitionsRevoked, before the partitions move.
    let onRevoke: @Sendable (KafkaConsumer) -> Void

    init(onRevoke: @escaping @Sendable (KafkaConsumer) -> Void = { _ in }) {
        self.onRevoke = onRevoke
    }

    func partitionsAssigned(_ partitions: [TopicPartition]) { record(revoked: false, partitions) }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        record(revoked: true, partitions)
        if let consumer = consumer.withLock({ $0 }) { onRevoke(consumer) }
    }

    private func record(revoked: Bool, _ partitions: [TopicPartition]) {
        let assignment = (try? consumer.withLock { $0 }?.assignment()) ?? []
        events.append(Event(revoked: revoked, partitions: Set(partitions), assignmentDuringCallback: Set(assignment)))
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ConsumerGroupTests {
    @Test func twoMembersSharePartitionsAndRevokeSeesPartitionsBeforeTheyMove() async throws {
        let cluster = try MockCluster(brokers: 3, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("shared")
        try cluster.createTopic(topic, partitions: 4)
        let group = uniqueName("group")
        let all = Set((0..<4).map { TopicPartition(topic: topic, partition: $0) })

        let firstHandler = RecordingRebalanceHandler()
        let first = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: group), topics: [topic],
            logger: testLogger, rebalanceHandler: firstHandler
        )
        firstHandler.consumer.withLock { $0 = first }
        #expect(try await pollUntil([first]) { Set(try first.assignment()) == all })

        let secondHandler = RecordingRebalanceHandler()
        let second = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: group), topics: [topic],
            logger: testLogger, rebalanceHandler: secondHandler
        )
        secondHandler.consumer.withLock { $0 = second }
        let shared = try await pollUntil([first, second]) {
            let a = Set(try first.assignment())
            let b = Set(try second.assignment())
            return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b) == all
        }
        #expect(shared)

        // Eager rebalance: the first member gave up all four partitions, and still owned
        // them while its handler ran.
        let firstEvents = firstHandler.events.all
        let revocation = try #require(firstEvents.first { $0.revoked })
        #expect(revocation.partitions == all)
        #expect(revocation.assignmentDuringCallback == all)
        #expect(secondHandler.events.all.contains { !$0.revoked && !$0.partitions.isEmpty })

        await second.close()
        await first.close()
        // close() delivered the final revoke of what the second member owned.
        #expect(secondHandler.events.all.last?.revoked == true)
    }

    @Test func newMemberResumesAtOffsetCommittedOnRevoke() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("resume")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger)
        try await producer.send(records(topic: topic, count: 10))
        await producer.close()
        let group = uniqueName("group")

        // The router's pattern: store after processing, commit synchronously on revoke.
        let handler = RecordingRebalanceHandler { consumer in
            #expect(throws: Never.self) { try consumer.commitSynchronously() }
        }
        let first = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: group), topics: [topic],
            logger: testLogger, rebalanceHandler: handler
        )
        handler.consumer.withLock { $0 = first }
        let firstRead = try await consume(first, count: 5)
        #expect(firstRead.count >= 5)
        try first.storeOffsets([TopicPartitionOffset(topic: topic, partition: 0, offset: 5)])
        await first.close()

        let second = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: group), topics: [topic], logger: testLogger
        )
        let secondRead = try await consume(second, count: 5)
        let committed = try await second.committed([TopicPartition(topic: topic, partition: 0)])
        await second.close()
        #expect(secondRead.map(\.offset) == Array(5..<10))
        #expect(committed == [TopicPartitionOffset(topic: topic, partition: 0, offset: 5)])
    }

    @Test func cooperativeRebalancingIsRefused() throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let configuration = consumerConfiguration(cluster, group: "g", ["partition.assignment.strategy": "cooperative-sticky"])
        #expect(throws: KafkaError.self) {
            _ = try KafkaConsumer(configuration: configuration, topics: ["t"], logger: testLogger)
        }
    }
}
