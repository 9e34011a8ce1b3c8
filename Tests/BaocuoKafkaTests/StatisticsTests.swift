import BaocuoKafka
import Testing

@Suite(.timeLimit(.minutes(1)))
struct StatisticsTests {
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
        while producerStatistics.all.isEmpty || consumerStatistics.all.isEmpty, ContinuousClock.now < deadline {
            _ = try await consumer.poll(maxMessages: 10, timeout: .milliseconds(100))
        }
        await consumer.close()
        await producer.close()
        #expect(producerStatistics.all.first?.contains(#""type": "producer""#) == true)
        #expect(consumerStatistics.all.first?.contains(#""type": "consumer""#) == true)
    }
}
