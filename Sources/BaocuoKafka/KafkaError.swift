import CRdKafka

/// A librdkafka error code (`rd_kafka_resp_err_t`): negative values are client-local
/// (`RD_KAFKA_RESP_ERR__*`), non-negative values are Kafka protocol error codes.
public struct KafkaErrorCode: Hashable, Sendable, CustomStringConvertible {
    /// The raw `rd_kafka_resp_err_t` value.
    public let rawValue: Int32

    /// Any `rd_kafka_resp_err_t` value, named or not.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    init(_ native: rd_kafka_resp_err_t) { self.rawValue = native.rawValue }

    var native: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: rawValue) }

    /// librdkafka's symbolic name, e.g. `NOT_LEADER_FOR_PARTITION` or `_QUEUE_FULL`.
    public var name: String { String(cString: rd_kafka_err2name(native)) }

    /// ``name``.
    public var description: String { name }

    // Codes the rest of Baocuo and its tests refer to by name. Any other code is still
    // representable through `init(rawValue:)`.
    public static let noError = KafkaErrorCode(RD_KAFKA_RESP_ERR_NO_ERROR)
    public static let queueFull = KafkaErrorCode(RD_KAFKA_RESP_ERR__QUEUE_FULL)
    public static let partitionEOF = KafkaErrorCode(RD_KAFKA_RESP_ERR__PARTITION_EOF)
    public static let timedOut = KafkaErrorCode(RD_KAFKA_RESP_ERR__TIMED_OUT)
    public static let messageTimedOut = KafkaErrorCode(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
    public static let purgedFromQueue = KafkaErrorCode(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
    public static let purgedInFlight = KafkaErrorCode(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
    public static let transport = KafkaErrorCode(RD_KAFKA_RESP_ERR__TRANSPORT)
    public static let allBrokersDown = KafkaErrorCode(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
    public static let invalidArgument = KafkaErrorCode(RD_KAFKA_RESP_ERR__INVALID_ARG)
    public static let unknownTopic = KafkaErrorCode(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
    public static let unknownPartition = KafkaErrorCode(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
    public static let fatal = KafkaErrorCode(RD_KAFKA_RESP_ERR__FATAL)
    public static let state = KafkaErrorCode(RD_KAFKA_RESP_ERR__STATE)
    public static let notImplemented = KafkaErrorCode(RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED)
    /// Reported by every call on a producer, consumer or mock cluster after `close()`.
    public static let clientClosed = KafkaErrorCode(RD_KAFKA_RESP_ERR__DESTROY)
    public static let unknownTopicOrPartition = KafkaErrorCode(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    public static let notLeaderForPartition = KafkaErrorCode(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
    public static let requestTimedOut = KafkaErrorCode(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
    public static let messageSizeTooLarge = KafkaErrorCode(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
    public static let notEnoughReplicas = KafkaErrorCode(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS)
    public static let topicAuthorizationFailed = KafkaErrorCode(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
    public static let invalidRecord = KafkaErrorCode(RD_KAFKA_RESP_ERR_INVALID_RECORD)
    public static let unsupportedVersion = KafkaErrorCode(RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION)
    public static let coordinatorNotAvailable = KafkaErrorCode(RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE)
    public static let notCoordinator = KafkaErrorCode(RD_KAFKA_RESP_ERR_NOT_COORDINATOR)
    public static let rebalanceInProgress = KafkaErrorCode(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
    public static let topicAlreadyExists = KafkaErrorCode(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
}

/// An error reported by librdkafka or by this module's wrappers.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as librdkafka's error code.
    public let code: KafkaErrorCode
    /// Human-readable detail from librdkafka (never contains message payloads).
    public let message: String
    /// The client instance is unusable and must be closed (e.g. the idempotent producer lost
    /// its guarantees, or the consumer was fenced).
    public let isFatal: Bool
    /// Retrying the same operation may succeed.
    public let isRetriable: Bool

    /// An error with the given code, detail and flags.
    public init(
        code: KafkaErrorCode,
        message: String,
        isFatal: Bool = false,
        isRetriable: Bool = false
    ) {
        self.code = code
        self.message = message
        self.isFatal = isFatal
        self.isRetriable = isRetriable
    }

    /// An error carrying librdkafka's default description of `code`.
    init(_ native: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(native))
        self.init(code: KafkaErrorCode(native), message: context.map { "\($0): \(text)" } ?? text)
    }

    /// Takes ownership of (and destroys) a `rd_kafka_error_t`.
    init(consuming error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        self.init(
            code: KafkaErrorCode(rd_kafka_error_code(error)),
            message: String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            isRetriable: rd_kafka_error_is_retriable(error) != 0
        )
    }

    /// The uniform error for any call made after `close()`.
    static func closed(_ what: String) -> KafkaError {
        KafkaError(code: .clientClosed, message: "the \(what) is closed")
    }

    /// `NAME (code): message`, with ` [fatal]` for a fatal error.
    public var description: String {
        var text = "\(code.name) (\(code.rawValue)): \(message)"
        if isFatal { text += " [fatal]" }
        return text
    }
}

extension String {
    /// The NUL-terminated text librdkafka wrote into an `errstr` buffer.
    init(errorBuffer: [CChar]) {
        self = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

extension rd_kafka_resp_err_t {
    /// Throws unless this is `RD_KAFKA_RESP_ERR_NO_ERROR`.
    func check(_ context: String) throws(KafkaError) {
        if self != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(self, context: context) }
    }
}

/// Throws the error carried by a `rd_kafka_error_t` return value, if any.
func check(_ error: OpaquePointer?) throws(KafkaError) {
    if let error { throw KafkaError(consuming: error) }
}
