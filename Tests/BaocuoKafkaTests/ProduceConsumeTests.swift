import Synchronization
import Testing

@testable import BaocuoKafka

@Suite(.timeLimit(.minutes(1)))
struct ProduceConsumeTests {
    @Test func recordsRoundTripWithKeysHeadersAndTimestamps() async throws {
        let cluster = try MockCluster(brokers: 3, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("roundtrip")
        try cluster.createTopic(topic, partitions: 3)
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger)
        let sent = (0..<300).map { index in
            ProducerRecord(
                topic: topic,
                key: index % 10 == 0 ? nil : Array("key-\(index)".utf8),
                value: Array("报错-\(index)".utf8),
                headers: [
                    KafkaHeader(key: "index", value: "\(index)"),
                    KafkaHeader(key: "null", value: nil),
                    KafkaHeader(key: "empty", value: []),
                ],
                timestampMs: 1_760_000_000_000 + Int64(index)
            )
        }
        try await producer.send(sent)
        await producer.close()

        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("reader")),
            assignment: (0..<3).map { TopicPartitionOffset(topic: topic, partition: $0, offset: TopicPartitionOffset.beginning) },
            logger: testLogger
        )
        let received = try await consume(consumer, count: sent.count)
        await consumer.close()

        #expect(received.count == sent.count)
        let byIndex = Dictionary(uniqueKeysWithValues: received.map { (String(decoding: $0.headers[0].value!, as: UTF8.self), $0) })
        for (index, record) in sent.enumerated() {
            let got = try #require(byIndex["\(index)"])
            #expect(got.topic == topic)
            #expect(got.key == record.key)
            #expect(got.value == record.value)
            #expect(got.headers == record.headers)
            #expect(got.timestampMs == record.timestampMs)
        }
    }

    @Test func produceReportsEveryTokenToTheDeliveryHandler() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("tokens")
        try cluster.createTopic(topic, partitions: 2)
        let reports = Recorder<DeliveryReport>()
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger) {
            reports.append($0)
        }
        let value: [UInt8] = Array("payload".utf8)
        for token in UInt64(1)...100 {
            try value.withUnsafeBytes { bytes in
                try producer.produce(topic: topic, partition: Int32(token % 2), key: nil, value: bytes, token: token)
            }
        }
        try await producer.flush(timeout: .seconds(15))
        #expect(producer.outstandingCount == 0)
        await producer.close()

        let delivered = reports.all
        #expect(Set(delivered.map(\.token)) == Set(1...100))
        #expect(delivered.allSatisfy { $0.error == nil && $0.offset >= 0 && $0.topic == topic })
        #expect(delivered.allSatisfy { $0.partition == Int32($0.token % 2) })
    }

    /// A queue of 50 messages and runs of 400: most of each run is refused QUEUE_FULL and enqueued
    /// again as deliveries make room; every record still arrives exactly once, in its key's partition.
    @Test func produceBatchDeliversEveryRecordOnceEvenWhenTheQueueIsFull() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("batch")
        try cluster.createTopic(topic, partitions: 3)
        let reports = Recorder<DeliveryReport>()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(cluster, ["queue.buffering.max.messages": "50"]),
            logger: testLogger
        ) { reports.append($0) }
        var bytes: [UInt8] = []
        var ranges: [(key: Range<Int>, value: Range<Int>)] = []
        for index in 0..<400 {
            let keyStart = bytes.count
            bytes += Array("key-\(index % 7)".utf8)
            let valueStart = bytes.count
            bytes += Array("报错-\(index)".utf8)
            ranges.append((keyStart..<valueStart, valueStart..<bytes.count))
        }
        try bytes.withUnsafeBytes { arena in
            for run in 0..<3 {
                try producer.produceBatch(topic: topic, count: ranges.count) { batch in
                    for (index, range) in ranges.enumerated() {
                        batch.initializeElement(
                            at: index,
                            to: KafkaBatchRecord(
                                key: UnsafeRawBufferPointer(rebasing: arena[range.key]),
                                value: UnsafeRawBufferPointer(rebasing: arena[range.value]),
                                token: UInt64(run * 1000 + index)))
                    }
                }
            }
        }
        try await producer.flush(timeout: .seconds(15))
        await producer.close()
        let delivered = reports.all
        #expect(delivered.count == 1200)
        #expect(Set(delivered.map(\.token)).count == 1200)
        #expect(delivered.allSatisfy { $0.error == nil && $0.topic == topic })

        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("reader")),
            assignment: (0..<3).map { TopicPartitionOffset(topic: topic, partition: $0, offset: TopicPartitionOffset.beginning) },
            logger: testLogger
        )
        let received = try await consume(consumer, count: 1200)
        await consumer.close()
        #expect(received.count == 1200)
        // One key, one partition.
        let partitionsByKey = Dictionary(grouping: received, by: { $0.key ?? [] }).mapValues { Set($0.map(\.partition)) }
        #expect(partitionsByKey.count == 7 && partitionsByKey.values.allSatisfy { $0.count == 1 })
    }

    /// 80,000 records over two topics, 2,000 every 10 ms: the deliveries pass the poll loop's busy
    /// threshold in several windows, so it sleeps between drains while records are still arriving;
    /// every record is still reported once, with its topic.
    @Test func underLoadTheDeliveryLoopNapsAndStillReportsEveryRecordOnce() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topics = [uniqueName("busy-a"), uniqueName("busy-b")]
        for topic in topics { try cluster.createTopic(topic, partitions: 4) }
        let reports = Recorder<DeliveryReport>()
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger) {
            reports.append($0)
        }
        let value: [UInt8] = Array("报错".utf8)
        let runs = 40
        let perRun = 2_000
        for run in 0..<runs {
            try value.withUnsafeBytes { bytes in
                try producer.produceBatch(topic: topics[run % 2], count: perRun) { batch in
                    for index in 0..<perRun {
                        batch.initializeElement(
                            at: index, to: KafkaBatchRecord(key: nil, value: bytes, token: UInt64(run * perRun + index)))
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let napsWhileProducing = producer.deliveryLoopNaps
        try await producer.flush(timeout: .seconds(30))
        await producer.close()

        #expect(napsWhileProducing > 0)
        let delivered = reports.all
        #expect(delivered.count == runs * perRun)
        #expect(Set(delivered.map(\.token)).count == runs * perRun)
        #expect(delivered.allSatisfy { $0.error == nil && $0.topic == topics[Int($0.token) / perRun % 2] })
    }

    @Test func queriesReportWatermarksMetadataAndCommittedOffsets() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("queries")
        try cluster.createTopic(topic, partitions: 2)
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger)
        try await producer.send(
            records(topic: topic, count: 7).map { record in
                var record = record
                record.partition = 1
                return record
            })
        await producer.close()

        let group = uniqueName("queries")
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: group),
            assignment: [TopicPartitionOffset(topic: topic, partition: 1, offset: TopicPartitionOffset.beginning)],
            logger: testLogger
        )
        let marks = try await consumer.watermarks(topic: topic, partition: 1)
        #expect(marks.low == 0 && marks.high == 7)
        let metadata = try await consumer.metadata()
        #expect(metadata.contains(TopicMetadata(name: topic, partitions: 2)))
        #expect(try consumer.assignment() == [TopicPartition(topic: topic, partition: 1)])

        try await consumer.commit([TopicPartitionOffset(topic: topic, partition: 1, offset: 4)])
        let committed = try await consumer.committed([TopicPartition(topic: topic, partition: 1)])
        #expect(committed == [TopicPartitionOffset(topic: topic, partition: 1, offset: 4)])
        await consumer.close()
    }

    @Test func partitionEndIsReportedWhenRequested() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("eof")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger)
        try await producer.send(records(topic: topic, count: 3))
        await producer.close()

        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("eof"), ["enable.partition.eof": "true"]),
            assignment: [TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)],
            logger: testLogger
        )
        var messages = 0
        var ends: [TopicPartitionOffset] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while ends.isEmpty, ContinuousClock.now < deadline {
            let batch = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(100))
            messages += batch.count
            ends += batch.partitionsAtEnd
        }
        await consumer.close()
        #expect(messages == 3)
        #expect(ends == [TopicPartitionOffset(topic: topic, partition: 0, offset: 3)])
    }
}
