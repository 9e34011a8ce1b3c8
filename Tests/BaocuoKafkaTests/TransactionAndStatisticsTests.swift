import BaocuoKafka
import Testing

@Suite(.timeLimit(.minutes(1)))
struct TransactionAndStatisticsTests {
    /// librdkafka 2.0.2's mock accepts the transaction protocol but writes no commit/abort
    /// markers, so even a read_committed consumer sees aborted records there: this checks
    /// the transaction lifecycle, not isolation.
    @Test func transactionLifecycleCompletesOnTheMock() async throws {
        let cluster = try MockCluster(brokers: 3, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("txn")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(
            configuration: producerConfiguration(cluster, ["transactional.id": uniqueName("router")]),
            logger: testLogger
        )
        try await producer.initTransactions()

        try producer.beginTransaction()
        try await producer.send(records(topic: topic, count: 3, keyPrefix: "aborted"))
        try await producer.abortTransaction()

        try producer.beginTransaction()
        try await producer.send(records(topic: topic, count: 4, keyPrefix: "committed"))
        try await producer.commitTransaction()
        await producer.close()

        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("txn"), ["isolation.level": "read_committed"]),
            assignment: [TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)],
            logger: testLogger
        )
        var received = try await consume(consumer, count: 4)
        received += try await consume(consumer, count: 1, timeout: .milliseconds(500))
        await consumer.close()
        let keys = received.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }
        #expect(keys == ["aborted0", "aborted1", "aborted2", "committed0", "committed1", "committed2", "committed3"])
    }

    @Test func statisticsReachTheHandlerOfProducerAndConsumer() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("stats")
        try cluster.createTopic(topic, partitions: 1)
        let producerStatistics = Recorder<String>()
        let consumerStatistics = Recorder<String>()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(cluster, ["statistics.interval.ms": "100"]),
            logger: testLogger,
            statisticsHandler: { producerStatistics.append($0) }
        )
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("stats"), ["statistics.interval.ms": "100"]),
            assignment: [TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)],
            logger: testLogger,
            statisticsHandler: { consumerStatistics.append($0) }
        )
        let deadline = ContinuousClock.now + .seconds(10)
        while (producerStatistics.all.isEmpty || consumerStatistics.all.isEmpty), ContinuousClock.now < deadline {
            _ = try await consumer.poll(maxMessages: 10, timeout: .milliseconds(100))
        }
        await consumer.close()
        await producer.close()
        #expect(producerStatistics.all.first?.contains(#""type": "producer""#) == true)
        #expect(consumerStatistics.all.first?.contains(#""type": "consumer""#) == true)
    }
}
