import CRdKafka
import Foundation
import Testing

@testable import BaocuoKafka

@Suite(.timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test func producerCallsAfterCloseThrowClosed() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let producer = try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger)
        await producer.close()
        await producer.close()

        let closed = KafkaErrorCode.clientClosed
        #expect(producer.outstandingCount == 0)
        #expect(throws: KafkaError.self) {
            try [UInt8(1)].withUnsafeBytes { try producer.produce(topic: "t", key: nil, value: $0, token: 1) }
        }
        let sendError = await #expect(throws: KafkaError.self) { try await producer.send(records(topic: "t", count: 1)) }
        #expect(sendError?.code == closed)
        let flushError = await #expect(throws: KafkaError.self) { try await producer.flush(timeout: .seconds(1)) }
        #expect(flushError?.code == closed)
    }

    @Test func consumerCallsAfterCloseThrowClosed() async throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        defer { cluster.close() }
        let topic = uniqueName("closed")
        try cluster.createTopic(topic, partitions: 1)
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: uniqueName("closed")), topics: [topic], logger: testLogger
        )
        // A poll in flight when close() is called finishes first (the sleep lets it start).
        async let polling = consumer.poll(maxMessages: 10, timeout: .seconds(3))
        try await Task.sleep(for: .milliseconds(300))
        await consumer.close()
        _ = try await polling
        await consumer.close()

        let closed = KafkaErrorCode.clientClosed
        let pollError = await #expect(throws: KafkaError.self) { try await consumer.poll(maxMessages: 1, timeout: .zero) }
        #expect(pollError?.code == closed)
        let syncCommitError = #expect(throws: KafkaError.self) {
            try consumer.commitSynchronously([TopicPartitionOffset(topic: topic, partition: 0, offset: 1)])
        }
        #expect(syncCommitError?.code == closed)
        let commitError = await #expect(throws: KafkaError.self) { try await consumer.commit() }
        #expect(commitError?.code == closed)
        let watermarkError = await #expect(throws: KafkaError.self) { _ = try await consumer.watermarks(topic: topic, partition: 0) }
        #expect(watermarkError?.code == closed)
    }

    @Test func mockClusterCallsAfterCloseThrowClosed() throws {
        let cluster = try MockCluster(brokers: 1, logger: testLogger)
        cluster.close()
        cluster.close()
        let error = #expect(throws: KafkaError.self) { try cluster.createTopic("t", partitions: 1) }
        #expect(error?.code == .clientClosed)
    }

    @Test func invalidConfigurationNamesTheProperty() throws {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(configuration: KafkaConfiguration(["no.such.property": "1"]), logger: testLogger)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("no.such.property") == true)
    }

    @Test func everyClientDisablesNagleUnlessConfigured() throws {
        func nagleDisable(_ configuration: KafkaConfiguration) throws -> String {
            let conf = try configuration.makeNative()
            defer { rd_kafka_conf_destroy(conf) }
            var value = [CChar](repeating: 0, count: 16)
            var size = value.count
            #expect(rd_kafka_conf_get(conf, "socket.nagle.disable", &value, &size) == RD_KAFKA_CONF_OK)
            return String(errorBuffer: value)
        }
        #expect(try nagleDisable(KafkaConfiguration()) == "true")
        #expect(try nagleDisable(KafkaConfiguration(["socket.nagle.disable": "false"])) == "false")
    }

    @Test func aRefusedValueIsNotEchoed() {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaConfiguration(["security.protocol": "s3cr3t-looking"]).makeNative()
        }
        #expect(error?.message.contains("security.protocol") == true)
        #expect(error?.message.contains("s3cr3t") == false)
    }

    /// `$BAOCUO_EXPECT_LIBRDKAFKA` (set by scripts/test.sh for each of its runs) is the library the
    /// run must have loaded: a wrong LD_LIBRARY_PATH fails here instead of testing 2.0.2 twice.
    @Test func versionIsTheLinkedLibrary() {
        #expect(librdkafkaVersion.split(separator: ".").count >= 3)
        #expect(librdkafkaVersionNumber > 0x0200_0000)
        if let expected = ProcessInfo.processInfo.environment["BAOCUO_EXPECT_LIBRDKAFKA"] {
            #expect(librdkafkaVersion == expected, "this run loaded librdkafka \(librdkafkaVersion), not \(expected)")
        }
    }

    /// A worker warns at start on a library older than the one CI tests (Debian's 2.0.2 in the
    /// first CI run, silent in the second on 2.16).
    @Test func aLibraryOlderThanTheTestedOneIsWarnedAbout() {
        #expect(TestedLibrdkafka.warnings(version: "2.16.0", number: 0x0210_00ff).isEmpty)
        #expect(TestedLibrdkafka.warnings(version: "2.17.1", number: 0x0211_01ff).isEmpty)
        let image = TestedLibrdkafka.warnings(version: "2.8.0", number: 0x0208_00ff)
        #expect(image.count == 1 && image[0].contains("older than 2.16.0"), "\(image)")
        let debian = TestedLibrdkafka.warnings(version: "2.0.2", number: 0x0200_02ff)
        #expect(debian.count == 2 && debian[1].contains("KIP-482"), "\(debian)")
        #expect(TestedLibrdkafka.warnings(version: "2.16.0-RC1", number: 0x0210_0001).count == 1, "a pre-release is older")
        let running = TestedLibrdkafka.warnings(version: librdkafkaVersion, number: librdkafkaVersionNumber)
        print("librdkafka \(librdkafkaVersion) in this run; warnings at start: \(running.count)")
        #expect(running.isEmpty == (librdkafkaVersionNumber >= TestedLibrdkafka.versionNumber))
    }
}
