import CRdKafka
import Dispatch
import Logging

/// A topic for ``KafkaAdmin/createTopics(_:timeout:)``.
public struct NewTopic: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    /// Topic-level configs, e.g. `["cleanup.policy": "compact"]`.
    public var configs: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// librdkafka's Admin API (CreateTopics) against a real broker; the mock cluster creates topics
/// through ``MockCluster`` instead.
public final class KafkaAdmin: Sendable {
    private let client: NativeClient
    private let queue = DispatchQueue(label: "baocuo.kafka.admin")

    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        client = try NativeClient(type: RD_KAFKA_PRODUCER, configuration: configuration,
                                  context: CallbackContext(logger: logger, statisticsHandler: nil))
    }

    /// Creates `topics` in one CreateTopics request and waits for the broker's answer. A topic
    /// that already exists is not an error; any other per-topic error throws (the first, by name).
    public func createTopics(_ topics: [NewTopic], timeout: Duration = .seconds(30)) async throws(KafkaError) {
        guard !topics.isEmpty else { return }
        let client = client
        try await queue.run { () throws(KafkaError) in
            var errorText = [CChar](repeating: 0, count: 512)
            var handles: [OpaquePointer?] = []
            defer { handles.forEach { $0.map(rd_kafka_NewTopic_destroy) } }
            for topic in topics {
                guard let handle = rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions), Int32(topic.replicationFactor),
                                                         &errorText, errorText.count) else {
                    throw KafkaError(code: .invalidArgument, message: "topic \(topic.name): \(String(errorBuffer: errorText))")
                }
                handles.append(handle)
                for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                    try rd_kafka_NewTopic_set_config(handle, key, value).check("topic \(topic.name) config \(key)")
                }
            }
            let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            try rd_kafka_AdminOptions_set_operation_timeout(options, timeout.kafkaMilliseconds, &errorText, errorText.count).check("admin options")
            try rd_kafka_AdminOptions_set_request_timeout(options, timeout.kafkaMilliseconds, &errorText, errorText.count).check("admin options")
            let results = rd_kafka_queue_new(client.handle)
            defer { rd_kafka_queue_destroy(results) }
            handles.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(client.handle, buffer.baseAddress, buffer.count, options, results)
            }
            guard let event = rd_kafka_queue_poll(results, timeout.kafkaMilliseconds + 5_000) else {
                throw KafkaError(code: .timedOut, message: "CreateTopics: no answer within \(timeout)")
            }
            defer { rd_kafka_event_destroy(event) }
            try rd_kafka_event_error(event).check("CreateTopics")
            guard let result = rd_kafka_event_CreateTopics_result(event) else {
                throw KafkaError(code: .state, message: "CreateTopics: not a CreateTopics result")
            }
            var count = 0
            guard let topicResults = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
            var failures: [(String, KafkaError)] = []
            for index in 0..<count {
                guard let topicResult = topicResults[index] else { continue }
                let code = rd_kafka_topic_result_error(topicResult)
                guard code != RD_KAFKA_RESP_ERR_NO_ERROR, code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS else { continue }
                let name = String(cString: rd_kafka_topic_result_name(topicResult))
                let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""
                failures.append((name, KafkaError(code: KafkaErrorCode(code), message: "create topic \(name): \(text)")))
            }
            if let first = failures.min(by: { $0.0 < $1.0 }) { throw first.1 }
        }
    }
}
