import BaocuoKafka
import Synchronization
import Testing

/// Measures produce, consume and consume→produce passthrough rates on the mock cluster.
/// Prints figures, asserts only completeness (never time). Run with
/// `BAOCUO_KAFKA_BENCH=1 swift test -c release --filter ThroughputBenchmark`.
@Suite(.enabled(if: Environment.benchmarkEnabled), .timeLimit(.minutes(5)))
struct ThroughputBenchmark {
    static let count = Int(String(cString: getenv("BAOCUO_KAFKA_BENCH"))) ?? 200_000
    static let payload = [UInt8](repeating: 0x61, count: 100)
    /// The mock keeps about 5 MB per partition and silently drops older records, so the
    /// records are spread over enough partitions to all stay readable.
    static let partitions: Int32 = 12

    @Test func passthrough() async throws {
        let cluster = try MockCluster(brokers: 3, logger: testLogger)
        defer { cluster.close() }
        let source = uniqueName("bench-in")
        let sink = uniqueName("bench-out")
        try cluster.createTopic(source, partitions: Int(Self.partitions))
        try cluster.createTopic(sink, partitions: Int(Self.partitions))

        let failures = Atomic<Int>(0)
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger) { report in
            if report.error != nil { failures.add(1, ordering: .relaxed) }
        }
        var clock = ContinuousClock.now
        for token in 0..<UInt64(Self.count) {
            let key = token.bigEndian
            try withUnsafeBytes(of: key) { key in
                try Self.payload.withUnsafeBytes { value in
                    try producer.produce(topic: source, key: key, value: value, token: token)
                }
            }
        }
        try await producer.flush(timeout: .seconds(60))
        report("produce", since: clock)

        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("bench")),
            assignment: (0..<Self.partitions).map {
                TopicPartitionOffset(topic: source, partition: $0, offset: TopicPartitionOffset.beginning)
            },
            logger: testLogger
        )
        clock = ContinuousClock.now
        var forwarded = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while forwarded < Self.count, ContinuousClock.now < deadline {
            let batch = try await consumer.poll(maxMessages: 2000, timeout: .milliseconds(500))
            for message in batch {
                try message.withKey { key in
                    try message.withValue { value in
                        try producer.produce(topic: sink, key: key, value: value, token: UInt64(forwarded))
                    }
                }
                forwarded += 1
            }
        }
        try await producer.flush(timeout: .seconds(60))
        report("consume→produce passthrough", since: clock)
        await consumer.close()
        await producer.close()
        #expect(forwarded == Self.count)
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    private func report(_ what: String, since start: ContinuousClock.Instant) {
        let seconds =
            Double((ContinuousClock.now - start).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - start).components.seconds)
        print("\(what): \(Self.count) records in \(seconds) s = \(Int(Double(Self.count) / seconds)) records/s")
    }
}

enum Environment {
    static var benchmarkEnabled: Bool {
        #if canImport(Glibc)
        return getenv("BAOCUO_KAFKA_BENCH") != nil
        #else
        return false
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
