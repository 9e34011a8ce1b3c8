import CRdKafka
import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A record header. A `nil` value is a null header (distinct from an empty one).
public struct KafkaHeader: Hashable, Sendable {
    /// The header name.
    public var key: String
    /// The header bytes; `nil` for a null header.
    public var value: [UInt8]?

    /// A header with raw bytes, or a null header.
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header whose value is `value`'s UTF-8 bytes.
    public init(key: String, value: String) {
        self.init(key: key, value: Array(value.utf8))
    }
}

/// A record to send with ``KafkaProducer/send(_:)``.
public struct ProducerRecord: Hashable, Sendable {
    /// The topic to write to.
    public var topic: String
    /// `nil`: chosen by the partitioner from the key.
    public var partition: Int32?
    /// The record key (partitioning and compaction); `nil` for a null key.
    public var key: [UInt8]?
    /// The record value.
    public var value: [UInt8]
    /// Headers, in order.
    public var headers: [KafkaHeader]
    /// `nil`: the producer's current time.
    public var timestampMs: Int64?

    /// A record for `topic`; everything else is optional.
    public init(
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]? = nil,
        value: [UInt8],
        headers: [KafkaHeader] = [],
        timestampMs: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }
}

/// One record of ``KafkaProducer/produceBatch(topic:count:fill:)``: key and value bytes, copied
/// by librdkafka before the call returns, and the record's delivery token.
public struct KafkaBatchRecord {
    /// The key bytes, or `nil` for a null key.
    public var key: UnsafeRawBufferPointer?
    /// The value bytes.
    public var value: UnsafeRawBufferPointer
    /// Handed back in the record's ``DeliveryReport``.
    public var token: UInt64

    /// A record of `key`, `value` and its delivery `token`.
    public init(key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer, token: UInt64) {
        self.key = key
        self.value = value
        self.token = token
    }
}

/// The outcome of one produced record, reported once per ``KafkaProducer/produce(topic:partition:key:value:headers:timestampMs:token:)``.
public struct DeliveryReport: Sendable {
    /// The token given to `produce`.
    public var token: UInt64
    /// The record's topic (`nil` only if librdkafka could not name it).
    public var topic: String?
    /// The partition the record was written to (or assigned, on error).
    public var partition: Int32
    /// The record's offset, or ``KafkaOffset/invalid``'s raw value when not known (e.g. on error).
    public var offset: Int64
    /// `nil` when the record was acknowledged by the cluster.
    public var error: KafkaError?
}

/// An idempotent Kafka producer.
///
/// Records are enqueued with ``produce(topic:partition:key:value:headers:timestampMs:token:)``
/// (non-blocking, copies the bytes) and acknowledged through one delivery handler, called
/// on the producer's own poll thread in acknowledgement order per partition. Each record
/// carries a caller-chosen integer token, so no per-record closure is allocated.
public final class KafkaProducer: Sendable {
    /// Tokens with this bit set are reserved for ``send(_:)``.
    public static let reservedTokenBit: UInt64 = 1 << 63

    private enum State {
        case open(NativeClient)
        case closing
        case closed
    }

    private let state: Mutex<State>
    private let pendingSends = PendingSends()
    private let pollLoop: PollLoop
    /// Serializes blocking calls (flush, close) off the cooperative pool.
    private let blockingQueue = DispatchQueue(label: "baocuo.kafka.producer.blocking")
    private let logger: Logger

    /// Creates the producer from typed settings (see ``init(configuration:logger:deliveryHandler:statisticsHandler:)``).
    public convenience init(
        configuration: ProducerConfiguration,
        logger: Logger,
        deliveryHandler: @escaping @Sendable (DeliveryReport) -> Void = { _ in },
        statisticsHandler: (@Sendable (String) -> Void)? = nil
    ) throws(KafkaError) {
        try self.init(
            configuration: configuration.properties, logger: logger, deliveryHandler: deliveryHandler,
            statisticsHandler: statisticsHandler)
    }

    /// Creates the producer and starts its poll thread.
    ///
    /// - Parameters:
    ///   - configuration: librdkafka properties; `bootstrap.servers` is required.
    ///     `enable.idempotence` defaults to `true`.
    ///   - deliveryHandler: receives one ``DeliveryReport`` per produced record (except those
    ///     sent with ``send(_:)``), on the poll thread. Keep it short and non-blocking.
    ///   - statisticsHandler: receives librdkafka's statistics JSON every
    ///     `statistics.interval.ms` (when that property is set).
    public init(
        configuration: KafkaConfiguration,
        logger: Logger,
        deliveryHandler: @escaping @Sendable (DeliveryReport) -> Void = { _ in },
        statisticsHandler: (@Sendable (String) -> Void)? = nil
    ) throws(KafkaError) {
        let context = CallbackContext(logger: logger, statisticsHandler: statisticsHandler)
        let client = try NativeClient(
            type: RD_KAFKA_PRODUCER,
            configuration: configuration.withDefaults(ProducerConfiguration.defaults),
            context: context
        ) { conf in
            // Event mode: delivery reports arrive in batches on our poll thread, and
            // rd_kafka_flush waits for them instead of serving callbacks on the caller.
            rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_STATS))
        }
        self.logger = logger
        self.state = Mutex(.open(client))
        self.pollLoop = PollLoop(client: client, pendingSends: pendingSends, deliveryHandler: deliveryHandler)
        pollLoop.start()
    }

    deinit {
        // Without close(): let the poll loop end; it releases the handle.
        pollLoop.requestStop()
    }

    /// Enqueues one record. Returns once librdkafka holds a copy of key, value and headers.
    ///
    /// When librdkafka's queue is full (`queue.buffering.max.messages`/`kbytes`) this waits
    /// for deliveries to make room instead of failing: that is the producer's backpressure.
    ///
    /// - Parameters:
    ///   - partition: `nil` lets the partitioner choose from the key.
    ///   - timestampMs: `nil` uses the current time.
    ///   - token: identifies the record in its ``DeliveryReport``; must not have
    ///     ``reservedTokenBit`` set.
    /// - Throws: ``KafkaErrorCode/clientClosed`` after `close()`, a pending fatal error, or
    ///   librdkafka's refusal (e.g. ``KafkaErrorCode/messageSizeTooLarge``, unknown partition).
    public func produce(
        topic: String,
        partition: Int32? = nil,
        key: UnsafeRawBufferPointer?,
        value: UnsafeRawBufferPointer,
        headers: [KafkaHeader] = [],
        timestampMs: Int64? = nil,
        token: UInt64
    ) throws(KafkaError) {
        precondition(token & Self.reservedTokenBit == 0, "token uses the bit reserved for send(_:)")
        try enqueue(
            topic: topic, partition: partition, key: key, value: value,
            headers: headers, timestampMs: timestampMs, token: token
        )
    }

    private func enqueue(
        topic: String,
        partition: Int32?,
        key: UnsafeRawBufferPointer?,
        value: UnsafeRawBufferPointer,
        headers: [KafkaHeader],
        timestampMs: Int64?,
        token: UInt64
    ) throws(KafkaError) {
        var backoffMicroseconds: UInt32 = 200
        while true {
            // Enqueue under the state lock so that close() cannot flush in between and
            // leave a record without a delivery report.
            let outcome = try state.withLock { (state) throws(KafkaError) -> rd_kafka_resp_err_t in
                guard case .open(let client) = state else { throw KafkaError.closed("producer") }
                if let fatal = client.context.fatalError { throw fatal }
                return try Self.produceOnce(
                    client: client, topic: topic, partition: partition, key: key, value: value,
                    headers: headers, timestampMs: timestampMs, token: token
                )
            }
            switch outcome {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                return
            case RD_KAFKA_RESP_ERR__QUEUE_FULL:
                usleep(backoffMicroseconds)
                backoffMicroseconds = min(backoffMicroseconds * 2, 50_000)
            default:
                throw KafkaError(outcome, context: "produce to \(topic)")
            }
        }
    }

    /// Enqueues records for one topic, without headers, stamped with the current time, in one
    /// `rd_kafka_produce_batch` call: one topic lookup and one lock for the whole run instead of per
    /// record. The partitioner chooses each record's partition from its key, as for ``produce``.
    /// `fill` writes the records into the buffer it is given (exactly `count` of them).
    ///
    /// A record refused because librdkafka's queue is full is enqueued again once deliveries made
    /// room (the same backpressure as ``produce``), after the run's other records: keep the queue
    /// larger than what a caller has in flight, or a key given twice in one run could reorder.
    /// Any other refusal throws.
    public func produceBatch(
        topic: String,
        count: Int,
        fill: (UnsafeMutableBufferPointer<KafkaBatchRecord>) -> Void
    ) throws(KafkaError) {
        guard count > 0 else { return }
        try withUnsafeTemporaryAllocation(of: rd_kafka_message_t.self, capacity: count) { (messages) throws(KafkaError) in
            try withUnsafeTemporaryAllocation(of: KafkaBatchRecord.self, capacity: count) { (records) throws(KafkaError) in
                fill(records)
                for (index, record) in records.enumerated() {
                    precondition(record.token & Self.reservedTokenBit == 0, "token uses the bit reserved for send(_:)")
                    var message = rd_kafka_message_t()
                    message.payload = UnsafeMutableRawPointer(mutating: record.value.baseAddress)
                    message.len = record.value.count
                    message.key = record.key.flatMap { UnsafeMutableRawPointer(mutating: $0.baseAddress) }
                    message.key_len = record.key?.count ?? 0
                    message._private = UnsafeMutableRawPointer(bitPattern: UInt(record.token))
                    messages.initializeElement(at: index, to: message)
                }
                defer { messages.baseAddress!.deinitialize(count: count) }
                let enqueued = try state.withLock { (state) throws(KafkaError) -> Int32 in
                    guard case .open(let client) = state else { throw KafkaError.closed("producer") }
                    if let fatal = client.context.fatalError { throw fatal }
                    return rd_kafka_produce_batch(
                        try client.topicHandle(topic), RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                        messages.baseAddress, Int32(count))
                }
                guard Int(enqueued) < count else { return }
                for (index, message) in messages.enumerated() where message.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    guard message.err == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                        throw KafkaError(message.err, context: "produce to \(topic)")
                    }
                    let record = records[index]
                    try enqueue(
                        topic: topic, partition: nil, key: record.key, value: record.value,
                        headers: [], timestampMs: nil, token: record.token)
                }
            }
        }
    }

    /// One `rd_kafka_produceva` call; returns its error code (headers are freed on failure).
    private static func produceOnce(
        client: NativeClient,
        topic: String,
        partition: Int32?,
        key: UnsafeRawBufferPointer?,
        value: UnsafeRawBufferPointer,
        headers: [KafkaHeader],
        timestampMs: Int64?,
        token: UInt64
    ) throws(KafkaError) -> rd_kafka_resp_err_t {
        let topicHandle = try client.topicHandle(topic)
        var nativeHeaders: OpaquePointer?
        if !headers.isEmpty {
            let list = rd_kafka_headers_new(headers.count)!
            for header in headers {
                if let headerValue = header.value {
                    headerValue.withUnsafeBytes { _ = rd_kafka_header_add(list, header.key, -1, $0.baseAddress, $0.count) }
                } else {
                    rd_kafka_header_add(list, header.key, -1, nil, 0)
                }
            }
            nativeHeaders = list
        }
        let error = withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { fields in
            var count = 0
            func append(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                var field = rd_kafka_vu_t()
                field.vtype = type
                fill(&field)
                fields.initializeElement(at: count, to: field)
                count += 1
            }
            append(RD_KAFKA_VTYPE_RKT) { $0.u.rkt = topicHandle }
            append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
            append(RD_KAFKA_VTYPE_VALUE) {
                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                $0.u.mem.size = value.count
            }
            if let key {
                append(RD_KAFKA_VTYPE_KEY) {
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                    $0.u.mem.size = key.count
                }
            }
            if let partition { append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
            if let timestampMs { append(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestampMs } }
            if let nativeHeaders { append(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = nativeHeaders } }
            append(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(token)) }
            defer { fields.baseAddress!.deinitialize(count: count) }
            return rd_kafka_produceva(client.handle, fields.baseAddress, count)
        }
        guard let error else { return RD_KAFKA_RESP_ERR_NO_ERROR }
        // On failure the headers were not taken over.
        if let nativeHeaders { rd_kafka_headers_destroy(nativeHeaders) }
        let code = rd_kafka_error_code(error)
        rd_kafka_error_destroy(error)
        return code
    }

    /// Produces `records` and waits until every one is acknowledged.
    ///
    /// - Throws: the first enqueue or delivery error; records enqueued before a failure are
    ///   still awaited, so nothing is left in flight when this returns.
    public func send(_ records: [ProducerRecord]) async throws(KafkaError) {
        guard !records.isEmpty else { return }
        let failure = await withCheckedContinuation { (continuation: CheckedContinuation<KafkaError?, Never>) in
            let batch = pendingSends.register(expected: records.count, continuation: continuation)
            var enqueued = 0
            var enqueueError: KafkaError?
            for record in records {
                let outcome = record.value.withUnsafeBytes { value in
                    withOptionalBytes(record.key) { key in
                        Result { () throws(KafkaError) in
                            try enqueue(
                                topic: record.topic, partition: record.partition, key: key, value: value,
                                headers: record.headers, timestampMs: record.timestampMs,
                                token: Self.reservedTokenBit | batch
                            )
                        }
                    }
                }
                if case .failure(let error) = outcome {
                    enqueueError = error
                    break
                }
                enqueued += 1
            }
            pendingSends.finishEnqueueing(batch, notEnqueued: records.count - enqueued, error: enqueueError)
        }
        if let failure { throw failure }
    }

    /// Waits until every enqueued record has been acknowledged or has failed.
    /// - Throws: ``KafkaErrorCode/timedOut`` if records are still outstanding after `timeout`.
    public func flush(timeout: Duration) async throws(KafkaError) {
        let client = try liveClient()
        try await blockingQueue.run { () throws(KafkaError) in
            try rd_kafka_flush(client.handle, timeout.kafkaMilliseconds).check("flush")
        }
    }

    /// How many times the poll loop slept between drains under load (for tests).
    var deliveryLoopNaps: Int { pollLoop.naps.load(ordering: .relaxed) }

    /// Records enqueued or in flight, not yet reported.
    public var outstandingCount: Int {
        state.withLock { state in
            guard case .open(let client) = state else { return 0 }
            return Int(rd_kafka_outq_len(client.handle))
        }
    }

    /// Flushes (up to `timeout`), fails what is still outstanding with a purge error, stops the
    /// poll thread and releases the handle. Later calls throw ``KafkaErrorCode/clientClosed``;
    /// calling `close()` again returns at once.
    public func close(timeout: Duration = .seconds(10)) async {
        let client: NativeClient? = state.withLock { state in
            guard case .open(let client) = state else { return nil }
            state = .closing
            return client
        }
        guard let client else { return }
        let pollLoop = pollLoop
        let logger = logger
        await blockingQueue.run { () -> Void in
            if rd_kafka_flush(client.handle, timeout.kafkaMilliseconds) != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning(
                    "producer closing with undelivered records; failing them",
                    metadata: ["kafka.outstanding": "\(rd_kafka_outq_len(client.handle))"]
                )
                rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
                // Purged records get delivery reports with a purge error: let the poll loop deliver them.
                _ = rd_kafka_flush(client.handle, 1000)
            }
            pollLoop.stopAndWait()
        }
        state.withLock { $0 = .closed }
    }

    private func liveClient() throws(KafkaError) -> NativeClient {
        try state.withLock { (state) throws(KafkaError) -> NativeClient in
            guard case .open(let client) = state else { throw KafkaError.closed("producer") }
            return client
        }
    }
}

/// Calls `body` with the bytes of `bytes`, or with `nil`.
private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

/// The producer's poll thread: serves delivery-report, error and statistics events until
/// stopped. It holds the handle, so the handle outlives the loop.
private final class PollLoop: Sendable {
    private let client: NativeClient
    private let pendingSends: PendingSends
    private let deliveryHandler: @Sendable (DeliveryReport) -> Void
    private let stopRequested = Atomic<Bool>(false)
    let naps = Atomic<Int>(0)
    private let finished = DispatchSemaphore(value: 0)

    init(client: NativeClient, pendingSends: PendingSends, deliveryHandler: @escaping @Sendable (DeliveryReport) -> Void) {
        self.client = client
        self.pendingSends = pendingSends
        self.deliveryHandler = deliveryHandler
    }

    /// Starts the loop on its own thread (a dedicated serial queue it never leaves).
    func start() {
        DispatchQueue(label: "baocuo.kafka.producer.poll").async { self.run() }
    }

    /// Asks the loop to end after its current wait (at most 100 ms).
    func requestStop() { stopRequested.store(true, ordering: .relaxed) }

    /// Stops the loop and waits for it to end. Blocks: call off the cooperative pool.
    func stopAndWait() {
        requestStop()
        finished.wait()
    }

    /// Above this many delivery reports in a window, the loop sleeps between drains instead of
    /// blocking on the queue: a blocked poll is woken by every event (one per produce response,
    /// thousands a second across ~1,600 inbox partitions), a sleeping one takes them all at once.
    /// A backlog's context switches fall by ~3/4; below the threshold (10,000 reports/s gives ~700
    /// per producer per window) acknowledgements are never held back by a nap (BENCHMARKS.md
    /// "Decision log").
    static let busyDeliveriesPerWindow = 2_000
    static let rateWindow: Duration = .milliseconds(100)
    /// A nap's length: what it adds at most to an acknowledgement under load.
    static let busyNapMicroseconds: UInt32 = 1000

    private func run() {
        let topicNames = TopicNameCache()
        var napping = false
        var windowStart = ContinuousClock.now
        var windowDeliveries = 0
        while !stopRequested.load(ordering: .relaxed) {
            // Wait for the first event (unless napping), then take what else is queued.
            var next = rd_kafka_queue_poll(client.queue, napping ? 0 : 100)
            while let event = next {
                windowDeliveries += handle(event, topicNames: topicNames)
                rd_kafka_event_destroy(event)
                next = rd_kafka_queue_poll(client.queue, 0)
            }
            let now = ContinuousClock.now
            if now - windowStart >= Self.rateWindow {
                napping = windowDeliveries >= Self.busyDeliveriesPerWindow
                windowStart = now
                windowDeliveries = 0
            }
            if napping {
                naps.add(1, ordering: .relaxed)
                usleep(Self.busyNapMicroseconds)
            }
        }
        finished.signal()
    }

    /// Serves one event; returns the number of delivery reports it carried.
    private func handle(_ event: OpaquePointer, topicNames: TopicNameCache) -> Int {
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_DR:
            var count = 0
            while let message = rd_kafka_event_message_next(event) {
                deliver(message.pointee, topicNames: topicNames)
                count += 1
            }
            return count
        case RD_KAFKA_EVENT_ERROR:
            let code = rd_kafka_event_error(event)
            let reason = String(cString: rd_kafka_event_error_string(event))
            client.context.report(
                rd_kafka_event_error_is_fatal(event) != 0
                    ? client.fatalError(reason: reason)
                    : KafkaError(code: KafkaErrorCode(code), message: reason)
            )
        case RD_KAFKA_EVENT_STATS:
            client.context.statisticsHandler?(String(cString: rd_kafka_event_stats(event)))
        default:
            break
        }
        return 0
    }

    private func deliver(_ message: rd_kafka_message_t, topicNames: TopicNameCache) {
        let token = UInt64(UInt(bitPattern: message._private))
        var error: KafkaError?
        if message.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            error = KafkaError(
                code: KafkaErrorCode(message.err),
                message: String(cString: rd_kafka_err2str(message.err)),
                isFatal: message.err == RD_KAFKA_RESP_ERR__FATAL
            )
        }
        if token & KafkaProducer.reservedTokenBit != 0 {
            pendingSends.delivered(token & ~KafkaProducer.reservedTokenBit, error: error)
            return
        }
        deliveryHandler(
            DeliveryReport(
                token: token,
                topic: message.rkt.map { topicNames.name(of: $0) },
                partition: message.partition,
                offset: error == nil ? message.offset : KafkaOffset.invalid.rawValue,
                error: error
            ))
    }
}

/// Batches of ``KafkaProducer/send(_:)`` awaiting their acknowledgements.
private final class PendingSends: Sendable {
    private struct Batch {
        /// Reports still expected, plus one while records are still being enqueued.
        var remaining: Int
        var firstError: KafkaError?
        let continuation: CheckedContinuation<KafkaError?, Never>
    }

    private let state = Mutex<(nextID: UInt64, batches: [UInt64: Batch])>((0, [:]))

    /// Registers a batch of `expected` records and returns its id (the record token).
    func register(expected: Int, continuation: CheckedContinuation<KafkaError?, Never>) -> UInt64 {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.batches[id] = Batch(remaining: expected + 1, firstError: nil, continuation: continuation)
            return id
        }
    }

    /// Ends the enqueue phase: records never enqueued will not be reported.
    func finishEnqueueing(_ id: UInt64, notEnqueued: Int, error: KafkaError?) {
        update(id) { batch in
            batch.remaining -= 1 + notEnqueued
            if batch.firstError == nil { batch.firstError = error }
        }
    }

    func delivered(_ id: UInt64, error: KafkaError?) {
        update(id) { batch in
            batch.remaining -= 1
            if batch.firstError == nil { batch.firstError = error }
        }
    }

    private func update(_ id: UInt64, _ change: (inout Batch) -> Void) {
        let finished: Batch? = state.withLock { state in
            guard var batch = state.batches[id] else { return nil }
            change(&batch)
            if batch.remaining > 0 {
                state.batches[id] = batch
                return nil
            }
            state.batches[id] = nil
            return batch
        }
        if let finished { finished.continuation.resume(returning: finished.firstError) }
    }
}
