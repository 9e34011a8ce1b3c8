import CRdKafka
import Dispatch
import Logging

/// librdkafka's Admin API, as much as `baocuo topics apply` needs: the cluster's topics
/// (metadata), CreateTopics and DescribeConfigs. Every call blocks a thread of its own queue
/// until the cluster answers or the timeout passes.
///
/// librdkafka's mock cluster (2.0.2, `baocuo dev-cluster`) implements neither CreateTopics nor
/// DescribeConfigs: such a call fails with ``KafkaErrorCode/unsupportedFeature`` (see
/// ``KafkaError/isUnsupportedByCluster``).
public final class KafkaAdmin: Sendable {
    private let client: NativeClient
    private let queue = DispatchQueue(label: "baocuo.kafka.admin")

    /// An admin client with typed settings.
    public convenience init(configuration: AdminConfiguration, logger: Logger) throws(KafkaError) {
        try self.init(configuration: configuration.properties, logger: logger)
    }

    /// An admin client with raw librdkafka properties (`bootstrap.servers` required).
    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        client = try NativeClient(
            type: RD_KAFKA_PRODUCER, configuration: configuration,
            context: CallbackContext(logger: logger, statisticsHandler: nil))
    }

    /// A topic to create.
    public struct NewTopic: Sendable {
        /// The topic name.
        public var name: String
        /// How many partitions to create.
        public var partitions: Int
        /// -1: the broker's `default.replication.factor`.
        public var replicationFactor: Int
        /// Topic configs (`retention.ms`, `cleanup.policy`, …) as name-value pairs.
        public var configs: [(String, String)]

        /// A topic to create with these partitions, replication factor and configs.
        public init(name: String, partitions: Int, replicationFactor: Int, configs: [(String, String)]) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
    }

    /// Every topic of the cluster with its partition count.
    public func topics(timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicMetadata] {
        let client = client
        return try await queue.run { () throws(KafkaError) in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            try rd_kafka_metadata(client.handle, 1, nil, &metadata, timeout.kafkaMilliseconds).check("metadata")
            defer { rd_kafka_metadata_destroy(metadata) }
            let topics = UnsafeBufferPointer(start: metadata!.pointee.topics, count: Int(metadata!.pointee.topic_cnt))
            return topics.map { TopicMetadata(name: String(cString: $0.topic), partitions: Int($0.partition_cnt)) }
        }
    }

    /// Creates `topics`; per topic, nil when created, else why not (e.g. `TOPIC_ALREADY_EXISTS`).
    /// Throws when the request as a whole fails (unreachable, unsupported by the cluster).
    public func createTopics(
        _ topics: [NewTopic], validateOnly: Bool = false,
        timeout: Duration = .seconds(30)
    ) async throws(KafkaError) -> [String: KafkaError?] {
        let client = client
        return try await queue.run { () throws(KafkaError) -> [String: KafkaError?] in
            var errorText = [CChar](repeating: 0, count: 512)
            var handles: [OpaquePointer?] = []
            defer { handles.withUnsafeMutableBufferPointer { rd_kafka_NewTopic_destroy_array($0.baseAddress, $0.count) } }
            for topic in topics {
                guard
                    let handle = rd_kafka_NewTopic_new(
                        topic.name, Int32(topic.partitions), Int32(topic.replicationFactor),
                        &errorText, errorText.count)
                else {
                    throw KafkaError(code: .invalidArgument, message: "topic \(topic.name): \(String(errorBuffer: errorText))")
                }
                handles.append(handle)
                for (name, value) in topic.configs {
                    try rd_kafka_NewTopic_set_config(handle, name, value).check("topic \(topic.name) config \(name)")
                }
            }
            return try Self.request(
                client, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout: timeout, what: "CreateTopics",
                operationTimeout: true, validateOnly: validateOnly
            ) { options, results in
                handles.withUnsafeMutableBufferPointer { rd_kafka_CreateTopics(client.handle, $0.baseAddress, $0.count, options, results) }
            } read: { event in
                Self.createTopicsOutcome(event)
            }
        }
    }

    private static func createTopicsOutcome(_ event: OpaquePointer) -> [String: KafkaError?] {
        var count = 0
        let list = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
        var outcome: [String: KafkaError?] = [:]
        for index in 0..<count {
            guard let result = list?[index] else { continue }
            let name = String(cString: rd_kafka_topic_result_name(result))
            let code = rd_kafka_topic_result_error(result)
            outcome[name] =
                code == RD_KAFKA_RESP_ERR_NO_ERROR
                ? nil
                : KafkaError(
                    code: KafkaErrorCode(code), message: rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? "")
        }
        return outcome
    }

    /// The configs of each of `topics` as the brokers report them (defaults included); per topic,
    /// the error when the broker could not describe it.
    public func describeTopicConfigs(
        _ topics: [String],
        timeout: Duration = .seconds(30)
    ) async throws(KafkaError) -> [String: Result<[String: String], KafkaError>] {
        let client = client
        return try await queue.run { () throws(KafkaError) -> [String: Result<[String: String], KafkaError>] in
            var resources: [OpaquePointer?] = topics.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
            defer { resources.withUnsafeMutableBufferPointer { rd_kafka_ConfigResource_destroy_array($0.baseAddress, $0.count) } }
            return try Self.request(client, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout: timeout, what: "DescribeConfigs") {
                options, results in
                resources.withUnsafeMutableBufferPointer {
                    rd_kafka_DescribeConfigs(client.handle, $0.baseAddress, $0.count, options, results)
                }
            } read: { event in
                Self.describeConfigsOutcome(event)
            }
        }
    }

    private static func describeConfigsOutcome(_ event: OpaquePointer) -> [String: Result<[String: String], KafkaError>] {
        var count = 0
        let list = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event), &count)
        var outcome: [String: Result<[String: String], KafkaError>] = [:]
        for index in 0..<count {
            guard let resource = list?[index] else { continue }
            let name = String(cString: rd_kafka_ConfigResource_name(resource))
            let code = rd_kafka_ConfigResource_error(resource)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                outcome[name] = .failure(
                    KafkaError(
                        code: KafkaErrorCode(code),
                        message: rd_kafka_ConfigResource_error_string(resource).map { String(cString: $0) } ?? ""))
                continue
            }
            var entryCount = 0
            let entries = rd_kafka_ConfigResource_configs(resource, &entryCount)
            var configs: [String: String] = [:]
            for entryIndex in 0..<entryCount {
                guard let entry = entries?[entryIndex], let value = rd_kafka_ConfigEntry_value(entry) else { continue }
                configs[String(cString: rd_kafka_ConfigEntry_name(entry))] = String(cString: value)
            }
            outcome[name] = .success(configs)
        }
        return outcome
    }

    /// Sends one Admin API request with its options and result queue, waits for the result event
    /// (see ``awaitEvent(_:timeout:what:)``) and reads it; everything is destroyed afterwards.
    /// `operationTimeout`: also bound the brokers' processing (CreateTopics), not only the request.
    private static func request<Outcome>(
        _ client: NativeClient, _ operation: rd_kafka_admin_op_t, timeout: Duration, what: String,
        operationTimeout: Bool = false, validateOnly: Bool = false,
        send: (_ options: OpaquePointer?, _ results: OpaquePointer?) -> Void,
        read: (_ event: OpaquePointer) -> Outcome
    ) throws(KafkaError) -> Outcome {
        var errorText = [CChar](repeating: 0, count: 512)
        let options = rd_kafka_AdminOptions_new(client.handle, operation)
        defer { rd_kafka_AdminOptions_destroy(options) }
        if operationTimeout {
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.kafkaMilliseconds, &errorText, errorText.count)
        }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.kafkaMilliseconds, &errorText, errorText.count)
        if validateOnly { _ = rd_kafka_AdminOptions_set_validate_only(options, 1, &errorText, errorText.count) }
        let results = rd_kafka_queue_new(client.handle)
        defer { rd_kafka_queue_destroy(results) }
        send(options, results)
        let event = try awaitEvent(results, timeout: timeout, what: what)
        defer { rd_kafka_event_destroy(event) }
        return read(event)
    }

    /// The admin result event of a request, or the request's own error.
    private static func awaitEvent(_ queue: OpaquePointer?, timeout: Duration, what: String) throws(KafkaError) -> OpaquePointer {
        // The request's own timeout answers first; the margin only covers a lost answer.
        guard let event = rd_kafka_queue_poll(queue, timeout.kafkaMilliseconds + 5_000) else {
            throw KafkaError(code: .timedOut, message: "\(what): no answer within \(timeout)")
        }
        let code = rd_kafka_event_error(event)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let message = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            rd_kafka_event_destroy(event)
            throw KafkaError(code: KafkaErrorCode(code), message: "\(what): \(message)")
        }
        return event
    }
}

extension KafkaErrorCode {
    /// The client or the cluster does not support the request (Admin API on the mock).
    public static let unsupportedFeature = KafkaErrorCode(RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
    /// The broker rejected the request as malformed or not allowed.
    public static let invalidRequest = KafkaErrorCode(RD_KAFKA_RESP_ERR_INVALID_REQUEST)
}

extension KafkaError {
    /// The cluster does not implement the request. librdkafka's 2.0.2 mock cluster reports no
    /// controller, so its Admin API requests time out "waiting for controller".
    public var isUnsupportedByCluster: Bool {
        [.unsupportedFeature, .unsupportedVersion, .notImplemented].contains(code)
            || (code == .timedOut && message.contains("waiting for controller"))
    }
}
