import CRdKafka
import Dispatch
import Foundation
import Logging
import Synchronization

/// An in-process Kafka-protocol cluster (librdkafka's mock cluster) listening on
/// 127.0.0.1, with fault injection. For tests, demos and `baocuo dev-cluster`.
///
/// Each broker listens on a random free port (librdkafka 2.0.2 offers no way to choose
/// one); ``bootstrapServers`` lists them. Topics are auto-created on first use with the
/// mock's default partition count unless created with ``createTopic(_:partitions:replicationFactor:)``.
public final class MockCluster: Sendable {
    private struct Live {
        /// The hidden producer handle the mock cluster lives in.
        let client: NativeClient
        let cluster: SendablePointer
    }

    private let state: Mutex<Live?>
    /// The comma-separated `host:port` list for `bootstrap.servers`.
    public let bootstrapServers: String
    /// The broker ids, `1...brokers`.
    public let brokerIDs: ClosedRange<Int32>

    /// Starts a cluster of `brokers` brokers.
    public init(brokers: Int = 3, logger: Logger) throws(KafkaError) {
        precondition(brokers > 0, "a cluster needs at least one broker")
        let client = try NativeClient(
            type: RD_KAFKA_PRODUCER,
            configuration: KafkaConfiguration(),
            context: CallbackContext(logger: logger, statisticsHandler: nil)
        )
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError(code: .fatal, message: "could not start the mock cluster (see the log)")
        }
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        self.brokerIDs = 1...Int32(brokers)
        self.state = Mutex(Live(client: client, cluster: SendablePointer(cluster)))
    }

    deinit { close() }

    /// Creates `name` with `partitions` partitions spread over the brokers. A topic that exists is
    /// kept as it is, on every library: 2.0.2's mock accepts the request silently, 2.16's answers
    /// TOPIC_ALREADY_EXISTS, which is not reported.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        try call("create topic \(name)") {
            Self.keepExisting(rd_kafka_mock_topic_create($0, name, Int32(partitions), Int32(replicationFactor)))
        }
    }

    private static func keepExisting(_ result: rd_kafka_resp_err_t) -> rd_kafka_resp_err_t {
        result == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS ? RD_KAFKA_RESP_ERR_NO_ERROR : result
    }

    /// Creates many topics at once (an existing one is kept, as
    /// ``createTopic(_:partitions:replicationFactor:)``). The 2.0.2 mock thread serves one
    /// hand-over only every few tens of milliseconds, so 800 topics one after another take a
    /// minute; requests made concurrently are served together.
    public func createTopics(_ topics: [(name: String, partitions: Int)], replicationFactor: Int = 1) throws(KafkaError) {
        let failure = Mutex<KafkaError?>(nil)
        let next = Atomic<Int>(0)
        try state.withLock { (live) throws(KafkaError) in
            guard let live else { throw KafkaError.closed("mock cluster") }
            let cluster = live.cluster
            let group = DispatchGroup()
            for _ in 0..<min(64, topics.count) {
                group.enter()
                Thread.detachNewThread {
                    while true {
                        let index = next.add(1, ordering: .relaxed).oldValue
                        guard index < topics.count else { break }
                        let topic = topics[index]
                        do throws(KafkaError) {
                            try Self.keepExisting(
                                rd_kafka_mock_topic_create(
                                    cluster.pointer, topic.name, Int32(topic.partitions),
                                    Int32(replicationFactor))
                            )
                            .check("create topic \(topic.name)")
                        } catch {
                            failure.withLock { if $0 == nil { $0 = error } }
                        }
                    }
                    group.leave()
                }
            }
            group.wait()
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Closes the broker's connections and refuses new ones until ``setBrokerUp(_:)``.
    public func setBrokerDown(_ broker: Int32) throws(KafkaError) {
        try call("broker \(broker) down") { rd_kafka_mock_broker_set_down($0, broker) }
    }

    /// Brings `broker` back after ``setBrokerDown(_:)``.
    public func setBrokerUp(_ broker: Int32) throws(KafkaError) {
        try call("broker \(broker) up") { rd_kafka_mock_broker_set_up($0, broker) }
    }

    /// Delays every response of `broker` by `milliseconds`.
    public func setBrokerRTT(_ broker: Int32, milliseconds: Int) throws(KafkaError) {
        try call("broker \(broker) rtt") { rd_kafka_mock_broker_set_rtt($0, broker, Int32(milliseconds)) }
    }

    /// Makes the next `errors.count` requests of type `api` (to any broker) fail with these
    /// errors, in order.
    public func pushRequestErrors(_ api: KafkaAPIKey, _ errors: [KafkaErrorCode]) throws(KafkaError) {
        try call("push request errors") { cluster in
            let natives = errors.map(\.native)
            natives.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, $0.count, $0.baseAddress) }
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Drops request errors pushed for `api` and not yet used.
    public func clearRequestErrors(_ api: KafkaAPIKey) throws(KafkaError) {
        try call("clear request errors") { cluster in
            rd_kafka_mock_clear_request_errors(cluster, api.rawValue)
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Makes every request for `topic` fail with `error` (``KafkaErrorCode/noError`` to stop).
    public func setTopicError(_ topic: String, _ error: KafkaErrorCode) throws(KafkaError) {
        try call("topic error") { cluster in
            rd_kafka_mock_topic_set_error(cluster, topic, error.native)
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Makes `broker` the coordinator of consumer group `group`.
    public func setCoordinator(group: String, broker: Int32) throws(KafkaError) {
        try call("group coordinator") { rd_kafka_mock_coordinator_set($0, "group", group, broker) }
    }

    /// Moves the leadership of one partition to `broker`.
    public func setPartitionLeader(topic: String, partition: Int32, broker: Int32) throws(KafkaError) {
        try call("partition leader") { rd_kafka_mock_partition_set_leader($0, topic, partition, broker) }
    }

    /// Stops the brokers. Idempotent; later calls throw ``KafkaErrorCode/clientClosed``.
    public func close() {
        guard let live = state.withLock({ $0.take() }) else { return }
        rd_kafka_mock_cluster_destroy(live.cluster.pointer)
    }

    /// Runs one mock API call (they are quick: an operation handed to the mock thread).
    private func call(_ what: String, _ body: (OpaquePointer) -> rd_kafka_resp_err_t) throws(KafkaError) {
        try state.withLock { (live) throws(KafkaError) in
            guard let live else { throw KafkaError.closed("mock cluster") }
            try body(live.cluster.pointer).check(what)
        }
    }
}
