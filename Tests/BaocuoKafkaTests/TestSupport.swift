import BaocuoKafka
import Logging
import Synchronization
import Testing

/// Quiet by default: librdkafka's info lines (connects, rebalances) drown test output.
let testLogger: Logger = {
    var logger = Logger(label: "baocuo.kafka.tests")
    logger.logLevel = .error
    return logger
}()

/// A unique name per call, so tests sharing a process never share topics or groups.
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
}

func producerConfiguration(_ cluster: MockCluster, _ extra: [String: String] = [:]) -> KafkaConfiguration {
    // message.timeout.ms bounds every delivery, so no send() in a test can hang.
    KafkaConfiguration(
        ["bootstrap.servers": cluster.bootstrapServers, "message.timeout.ms": "15000", "linger.ms": "1"]
            .merging(extra) { _, new in new })
}

func consumerConfiguration(_ cluster: MockCluster, group: String, _ extra: [String: String] = [:]) -> KafkaConfiguration {
    // The mock makes a member joining an existing group wait session.timeout.ms - 1 s.
    KafkaConfiguration(
        [
            "bootstrap.servers": cluster.bootstrapServers,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "500",
            "enable.auto.commit": "false",
        ].merging(extra) { _, new in new })
}

/// What a consumed record looked like, copied out of its batch.
struct ReceivedRecord: Hashable, Sendable {
    var topic: String
    var partition: Int32
    var offset: Int64
    var key: [UInt8]?
    var value: [UInt8]
    var headers: [KafkaHeader]
    var timestampMs: Int64?

    init(_ message: ConsumedMessage) {
        topic = message.topic
        partition = message.partition
        offset = message.offset
        key = message.keyBytes
        value = message.valueBytes
        headers = message.headers
        timestampMs = message.timestampMs
    }
}

/// Polls until `count` records arrived or `timeout` passed; returns what arrived.
func consume(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(20)) async throws -> [ReceivedRecord] {
    let deadline = ContinuousClock.now + timeout
    var received: [ReceivedRecord] = []
    while received.count < count, ContinuousClock.now < deadline {
        let batch = try await consumer.poll(maxMessages: 500, timeout: .milliseconds(100))
        received += batch.map(ReceivedRecord.init)
    }
    return received
}

/// Polls until `condition` holds or `timeout` passed; returns whether it held.
func pollUntil(
    _ consumers: [KafkaConsumer],
    timeout: Duration = .seconds(30),
    _ condition: () throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for consumer in consumers {
                group.addTask { _ = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(100)) }
            }
            try await group.waitForAll()
        }
    }
    return try condition()
}

func records(topic: String, count: Int, keyPrefix: String = "k") -> [ProducerRecord] {
    (0..<count).map { index in
        ProducerRecord(topic: topic, key: Array("\(keyPrefix)\(index)".utf8), value: Array("value-\(index)".utf8))
    }
}

/// Collects callbacks from librdkafka threads.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}
