import CRdKafka
import Dispatch
import Logging
import Synchronization

/// State shared with librdkafka's callbacks through the handle's opaque pointer.
final class CallbackContext: Sendable {
    let logger: Logger
    let statisticsHandler: (@Sendable (String) -> Void)?
    let rebalanceHandler: (any KafkaRebalanceHandler)?
    /// The group consumer was configured with a cooperative assignor: its assignment changes go
    /// through incremental (un)assign, also while it closes, when librdkafka may already report
    /// the group's protocol as NONE (an eager `assign(NULL)` then corrupted 2.16's heap).
    let cooperative: Bool
    private let fatal = Mutex<KafkaError?>(nil)

    init(
        logger: Logger,
        statisticsHandler: (@Sendable (String) -> Void)?,
        rebalanceHandler: (any KafkaRebalanceHandler)? = nil,
        cooperative: Bool = false
    ) {
        self.logger = logger
        self.statisticsHandler = statisticsHandler
        self.rebalanceHandler = rebalanceHandler
        self.cooperative = cooperative
    }

    /// The fatal error raised on this handle, if any. Once set it stays set: a fatal error
    /// leaves the instance unusable, so every later poll or produce reports it again.
    var fatalError: KafkaError? { fatal.withLock { $0 } }

    /// Logs a client-level error and remembers it when it is fatal.
    /// `client`: the librdkafka instance's name (`…#consumer-3`), so that a line names the client
    /// as well as the broker (which the error text names).
    func report(_ error: KafkaError, client: String = "") {
        if error.isFatal {
            logger.critical("librdkafka fatal error", metadata: ["kafka.error": "\(error)", "kafka.client": "\(client)"])
            fatal.withLock { if $0 == nil { $0 = error } }
        } else {
            logger.warning("librdkafka error", metadata: ["kafka.error": "\(error)", "kafka.client": "\(client)"])
        }
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> CallbackContext {
        Unmanaged<CallbackContext>.fromOpaque(opaque!).takeUnretainedValue()
    }
}

/// Owns one `rd_kafka_t` and everything that must die before it: cached topic handles and
/// queue references. The handle is destroyed when the last reference goes away, so a
/// ``ConsumedBatch`` or an in-flight call keeps it alive past `close()`.
final class NativeClient: @unchecked Sendable {
    // @unchecked: `handle`, `queue` and `context` are immutable; librdkafka handles are
    // thread-safe; `topics` is protected by its Mutex.
    let handle: OpaquePointer
    let context: CallbackContext
    /// The queue this client reads from: the main queue (producer: events) or the
    /// consumer queue (consumer: messages and callbacks).
    let queue: OpaquePointer
    private let retainedContext: Unmanaged<CallbackContext>
    private let topics = Mutex<[String: OpaquePointer]>([:])

    /// Creates the handle; `configure` may install extra callbacks on the `rd_kafka_conf_t`.
    init(
        type: rd_kafka_type_t,
        configuration: KafkaConfiguration,
        context: CallbackContext,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) {
        let conf = try configuration.makeNative()
        let retained = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_log_cb(conf, logCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        if context.statisticsHandler != nil {
            rd_kafka_conf_set_stats_cb(conf, statisticsCallback)
        }
        configure(conf)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            retained.release()
            throw KafkaError(code: .invalidArgument, message: String(errorBuffer: errorText))
        }
        self.handle = handle
        self.context = context
        self.retainedContext = retained
        if type == RD_KAFKA_CONSUMER {
            // Route client events (rebalance, errors, statistics) to the consumer queue so
            // that polling it serves them.
            rd_kafka_poll_set_consumer(handle)
            self.queue = rd_kafka_queue_get_consumer(handle)
        } else {
            self.queue = rd_kafka_queue_get_main(handle)
        }
    }

    deinit {
        let handle = SendablePointer(handle)
        let queue = SendablePointer(queue)
        let topicHandles = topics.withLock { $0.values.map(SendablePointer.init) }
        let retainedContext = self.retainedContext
        // rd_kafka_destroy blocks (it joins librdkafka's threads); the last reference may be
        // dropped on the cooperative pool, so destroy elsewhere.
        DispatchQueue.global().async {
            for topic in topicHandles { rd_kafka_topic_destroy(topic.pointer) }
            rd_kafka_queue_destroy(queue.pointer)
            rd_kafka_destroy(handle.pointer)
            retainedContext.release()
        }
    }

    /// The name librdkafka gave this instance, e.g. `rdkafka#producer-1`.
    var name: String { String(cString: rd_kafka_name(handle)) }

    /// A cached topic handle (producer side), created on first use.
    func topicHandle(_ name: String) throws(KafkaError) -> OpaquePointer {
        try topics.withLock { (topics) throws(KafkaError) -> OpaquePointer in
            if let cached = topics[name] { return cached }
            guard let created = rd_kafka_topic_new(handle, name, nil) else {
                throw KafkaError(rd_kafka_last_error(), context: "topic \(name)")
            }
            topics[name] = created
            return created
        }
    }

    /// The client-level fatal error, with the underlying cause librdkafka recorded.
    func fatalError(reason: String) -> KafkaError {
        var text = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &text, text.count)
        return KafkaError(
            code: KafkaErrorCode(code == RD_KAFKA_RESP_ERR_NO_ERROR ? RD_KAFKA_RESP_ERR__FATAL : code),
            message: code == RD_KAFKA_RESP_ERR_NO_ERROR ? reason : String(errorBuffer: text),
            isFatal: true
        )
    }
}

/// A C pointer handed to another thread together with the object that owns it.
struct SendablePointer: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

// MARK: - C callbacks (context-free closures: state travels through the opaque pointer)

private let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle, level, facility, text in
    guard let handle, let opaque = rd_kafka_opaque(handle) else { return }
    let context = CallbackContext.from(opaque)
    let facilityName = facility.map { String(cString: $0) } ?? "?"
    // librdkafka reports a failed broker connection twice: this log line (facility FAIL) and the
    // error callback, which logs it as a warning with the broker's name. Log it once.
    let duplicatesErrorCallback = level <= 3 && facilityName == "FAIL"
    context.logger.log(
        level: duplicatesErrorCallback ? .debug : Logger.Level(syslog: level),
        "\(text.map { String(cString: $0) } ?? "")",
        metadata: ["kafka.client": "\(String(cString: rd_kafka_name(handle)))", "kafka.facility": "\(facilityName)"]
    )
}

private let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    handle, code, reason, opaque in
    let context = CallbackContext.from(opaque)
    let reasonText = reason.map { String(cString: $0) } ?? ""
    let client = handle.map { String(cString: rd_kafka_name($0)) } ?? ""
    if code == RD_KAFKA_RESP_ERR__FATAL.rawValue, let handle {
        var text = [CChar](repeating: 0, count: 512)
        let cause = rd_kafka_fatal_error(handle, &text, text.count)
        context.report(KafkaError(code: KafkaErrorCode(cause), message: String(errorBuffer: text), isFatal: true), client: client)
    } else {
        context.report(KafkaError(code: KafkaErrorCode(rawValue: code), message: reasonText), client: client)
    }
}

private let statisticsCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = {
    _, json, _, opaque in
    if let json { CallbackContext.from(opaque).statisticsHandler?(String(cString: json)) }
    return 0  // librdkafka frees the JSON buffer
}

extension Logger.Level {
    /// Maps a syslog severity (librdkafka's log levels) to a swift-log level.
    init(syslog level: Int32) {
        switch level {
        case ...2: self = .critical
        case 3: self = .error
        case 4: self = .warning
        case 5: self = .notice
        case 6: self = .info
        default: self = .debug
        }
    }
}

extension DispatchQueue {
    /// Runs blocking librdkafka work on this queue and suspends (without blocking a
    /// cooperative thread) until it finishes.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            self.async { continuation.resume(returning: Result { () throws(KafkaError) in try work() }) }
        }
        return try result.get()
    }

    /// Runs blocking work that cannot fail on this queue, off the cooperative pool.
    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            self.async { continuation.resume(returning: work()) }
        }
    }
}
