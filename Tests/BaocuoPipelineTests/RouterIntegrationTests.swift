import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

/// The router against librdkafka's mock cluster over TCP, in this process.
@Suite(.serialized)
struct RouterIntegrationTests {
    let harness = RouterHarness()
    var names: TopicNames { harness.names }

    @Test func everySampleEndsAsExactlyOneOwnerCopyOrOneDeadLetter() async throws {
        let cluster = try harness.makeCluster()
        defer { cluster.close() }
        let lines = SampleReports.generate(count: 460)
        try await SampleReports.load(lines, topic: names.failures, brokers: cluster.bootstrapServers)
        let group = "router-exact"
        try await harness.route(
            cluster: cluster, workers: [harness.makeWorker(cluster: cluster, group: group)], group: group, inputPartitions: 4)
        let result = try await harness.ledger(cluster: cluster, group: group)
        #expect(result.inputs == 460)
        #expect(result.expectedDeadLetters == 100)
        #expect(result.isExact, "\(result)")
        #expect(result.ccCopies > 0 && result.opsCopies > 0, "\(result)")
    }

    @Test func deadLettersKeepTheOriginalBytesAndCarryTheContractHeaders() async throws {
        let cluster = try harness.makeCluster(inputPartitions: 1)
        defer { cluster.close() }
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(["bootstrap.servers": cluster.bootstrapServers]), logger: TestLogging.logger)
        let broken = Array(#"{"schema":"baocuo.report/v1","reportId":"R-1""#.utf8)
        try await producer.send([
            ProducerRecord(
                topic: names.failures, key: Array("R-1".utf8), value: broken,
                headers: [KafkaHeader(key: "trace", value: "abc")], timestampMs: 1_795_000_000_000)
        ])
        await producer.close()
        let group = "router-dlq"
        try await harness.route(
            cluster: cluster, workers: [harness.makeWorker(cluster: cluster, group: group)], group: group, inputPartitions: 1)
        let reader = TopicReader(brokers: cluster.bootstrapServers, logger: TestLogging.logger)
        let dead = try await reader.readAll(reader.topics { $0 == names.failuresDLQ })
        try #require(dead.count == 1)
        let record = dead[0]
        #expect(record.value == broken)
        #expect(record.key == Array("R-1".utf8))
        #expect(record.timestampMs == 1_795_000_000_000)
        #expect(record.header("trace") == "abc")
        #expect(record.header(DeadLetterHeader.errorCode) == "INVALID_JSON")
        #expect(record.header(DeadLetterHeader.errorDetail)?.isEmpty == false)
        #expect(record.header(DeadLetterHeader.sourceTopic) == names.failures)
        #expect(record.header(DeadLetterHeader.sourcePartition) == "0")
        #expect(record.header(DeadLetterHeader.sourceOffset) == "0")
        #expect(record.header(DeadLetterHeader.sourceTimestamp) == "2026-11-18T19:06:40+08:00")
        #expect(record.header(DeadLetterHeader.sourceGroup) == group)
        #expect(record.header(DeadLetterHeader.failedAt).flatMap(Timestamp.parseRFC3339) != nil)
        #expect(record.header(DeadLetterHeader.attempts) == "1")
    }

    @Test func routedCopiesFollowTheContract() async throws {
        let cluster = try harness.makeCluster(inputPartitions: 1)
        defer { cluster.close() }
        // A SYSTEM_FAULT sample and a treatment-agency sample, by their expected categories.
        let lines = SampleReports.lines
        try await SampleReports.load(lines, topic: names.failures, brokers: cluster.bootstrapServers)
        let group = "router-copies"
        try await harness.route(
            cluster: cluster, workers: [harness.makeWorker(cluster: cluster, group: group)], group: group, inputPartitions: 1)
        let reader = TopicReader(brokers: cluster.bootstrapServers, logger: TestLogging.logger)
        let ops = try await reader.readAll(reader.topics { $0 == names.ops })
        #expect(ops.count == 3, "three SYSTEM_FAULT samples")
        for record in ops {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any])
            #expect(object["category"] as? String == "SYSTEM_FAULT")
            #expect(object["role"] as? String == "ops")
            let report = try #require(object["report"] as? [String: Any])
            let insured = try #require(report["insured"] as? [String: Any])
            if let personId = insured["personId"] as? String {
                #expect(personId.contains("********"), "ops copies mask the person ID")
            }
        }
        let inboxes = try await reader.readAll(reader.topics { $0.hasSuffix(".inbox") })
        for record in inboxes {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any])
            let role = try #require(object["role"] as? String)
            let owner = try #require(object["owner"] as? String)
            let cc = try #require(object["cc"] as? [String])
            #expect(record.keyString == object["reportId"] as? String, "keyed by reportId")
            #expect(object["receivedAt"] as? String != nil)
            if role == "owner" {
                #expect(record.topic == names.inbox(region: owner))
            } else {
                #expect(role == "cc")
                #expect(cc.contains { record.topic == names.inbox(region: $0) }, "a cc copy lands only in a listed cc region")
            }
        }
    }
}
