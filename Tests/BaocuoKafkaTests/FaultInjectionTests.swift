import BaocuoKafka
import Testing

@Suite(.timeLimit(.minutes(1)))
struct FaultInjectionTests {
    /// Reads the whole topic back (one partition).
    private func readAll(_ cluster: MockCluster, topic: String, expected: Int) async throws -> [ReceivedRecord] {
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("check")),
            assignment: [TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)],
            logger: testLogger
        )
        // Read past `expected` briefly so duplicates would show up too.
        var received = try await consume(consumer, count: expected)
        received += try await consume(consumer, count: 1, timeout: .milliseconds(500))
        await consumer.close()
        return received
    }

    @Test func produceCompletesWithoutLossAfterBrokerComesBack() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("outage")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger)
        try await producer.send(records(topic: topic, count: 1, keyPrefix: "warmup"))

        try cluster.setBrokerDown(1)
        let sending = Task { try await producer.send(records(topic: topic, count: 50)) }
        try await Task.sleep(for: .seconds(1))
        #expect(producer.outstandingCount > 0)
        try cluster.setBrokerUp(1)
        try await sending.value
        await producer.close()

        let received = try await readAll(cluster, topic: topic, expected: 51)
        #expect(received.count == 51)
        #expect(Set(received.map(\.key)).count == 51)
    }

    @Test func retriableProduceErrorsAreRetriedWithoutDuplicates() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("retriable")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger)
        try await producer.send(records(topic: topic, count: 1, keyPrefix: "warmup"))

        try cluster.pushRequestErrors(.produce, [.notLeaderForPartition, .requestTimedOut, .notEnoughReplicas])
        try await producer.send(records(topic: topic, count: 20))
        await producer.close()

        let received = try await readAll(cluster, topic: topic, expected: 21)
        #expect(received.count == 21)
        #expect(Set(received.map(\.key)).count == 21)
    }

    @Test func permanentProduceErrorFailsTheDelivery() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("permanent")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger)
        try await producer.send(records(topic: topic, count: 1, keyPrefix: "warmup"))

        try cluster.pushRequestErrors(.produce, [.topicAuthorizationFailed])
        let error = await #expect(throws: KafkaError.self) {
            try await producer.send(records(topic: topic, count: 1))
        }
        #expect(error?.code == .topicAuthorizationFailed)
        await producer.close()
    }

    /// librdkafka's mock (2.0.2, and still 2.16: librdkafka issue #4755) ignores the timestamp of a
    /// ListOffsets request and answers "end" (-1) for every lookup; a real broker answers the first
    /// offset at or after it.
    /// Replay by time on the mock therefore has to scan and filter by record timestamp.
    @Test func timestampLookupOnTheMockAnswersEnd() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("times")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger)
        try await producer.send((1...5).map { ProducerRecord(topic: topic, value: [UInt8($0)], timestampMs: 1_000 * Int64($0)) })
        await producer.close()

        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("times")),
            assignment: [TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)],
            logger: testLogger
        )
        let found = try await consumer.offsetsForTimes([TopicPartitionOffset(topic: topic, partition: 0, offset: 2_500)])
        await consumer.close()
        #expect(found == [TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.end)])
    }

    /// Creating a topic that exists keeps it, on both libraries: the 2.16 mock answers
    /// TOPIC_ALREADY_EXISTS where 2.0.2's accepted silently, and ``MockCluster`` hides the difference.
    @Test func creatingAnExistingTopicAgainKeepsIt() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("again")
        try cluster.createTopic(topic, partitions: 2)
        try cluster.createTopic(topic, partitions: 2)
        try cluster.createTopics([(topic, 2), (uniqueName("fresh"), 1)])
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("again")), assignment: [], logger: testLogger)
        let metadata = try await consumer.metadata()
        await consumer.close()
        #expect(metadata.first { $0.name == topic }?.partitions == 2)
    }
}
