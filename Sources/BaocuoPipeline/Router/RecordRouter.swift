import BaocuoDomain
import BaocuoKafka

/// Where a consumed record came from: what the DLQ headers and the offset tracker need.
public struct SourcePosition: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64

    public init(topic: String, partition: Int32, offset: Int64, timestampMs: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
    }
}

/// Records to produce, written into one reusable byte arena so that routing a batch allocates
/// almost nothing per record.
public struct OutputBatch: Sendable {
    public struct Record: Sendable {
        public var topic: String
        public var key: Range<Int>?
        public var value: Range<Int>
        /// Headers to attach (dead-letter records only; routed copies carry none).
        public var headers: [KafkaHeader]
        /// The source record's timestamp for dead-letter records (they keep the original's).
        public var timestampMs: Int64?
        public var category: Category?
        public var role: RoutedRole?
    }

    public private(set) var arena: [UInt8] = []
    public private(set) var records: [Record] = []

    public init() {}

    public mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
    }

    mutating func append(topic: String, key: UnsafeRawBufferPointer?, headers: [KafkaHeader] = [], timestampMs: Int64? = nil,
                         category: Category? = nil, role: RoutedRole? = nil, writeValue: (inout [UInt8]) -> Void) {
        var keyRange: Range<Int>?
        if let key {
            let start = arena.count
            arena.append(contentsOf: key)
            keyRange = start..<arena.count
        }
        let valueStart = arena.count
        writeValue(&arena)
        records.append(Record(topic: topic, key: keyRange, value: valueStart..<arena.count, headers: headers,
                              timestampMs: timestampMs, category: category, role: role))
    }

    /// Calls `body` with the key and value bytes of record `index`.
    public func withBytes<R>(of index: Int, _ body: (UnsafeRawBufferPointer?, UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let record = records[index]
        return try arena.withUnsafeBytes { raw in
            try body(record.key.map { UnsafeRawBufferPointer(rebasing: raw[$0]) }, UnsafeRawBufferPointer(rebasing: raw[record.value]))
        }
    }
}

/// What happened to one consumed record.
public enum RouteSummary: Sendable {
    case routed(category: Category, owner: String, copies: Int)
    case deadLettered(RejectCode)
}

/// Turns one consumed ingest record into its output records: the owner copy, cc copies, the masked
/// ops copy, or one dead-letter record (CONTRACT §1–§3). Immutable; replaced whole on a reload.
public struct RecordRouter: Sendable {
    public let engine: RoutingEngine
    public let encoder: RoutedRecordEncoder
    public let topics: TopicNames
    public let group: String
    public let utcOffsetSeconds: Int
    private let inboxTopics: [String: String]

    public init(configuration: DomainConfiguration, group: String) {
        let settings = configuration.settings
        engine = RoutingEngine(configuration: configuration)
        encoder = RoutedRecordEncoder(classifier: configuration.classifier, utcOffsetSeconds: settings.schedule.utcOffsetSeconds)
        topics = TopicNames(prefix: settings.topicPrefix)
        self.group = group
        utcOffsetSeconds = settings.schedule.utcOffsetSeconds
        var inboxTopics: [String: String] = [:]
        for region in configuration.regions.regions {
            inboxTopics[region.code] = topics.inbox(region: region.code)
        }
        self.inboxTopics = inboxTopics
    }

    /// Routes one record into `outputs`. `headers` is read only when the record is dead-lettered.
    /// `replay` headers, when given, are attached to every routed copy (provenance of a replay).
    @discardableResult
    public func route(
        key: UnsafeRawBufferPointer?,
        value: UnsafeRawBufferPointer,
        source: SourcePosition,
        headers: () -> [KafkaHeader],
        extraHeaders: [KafkaHeader] = [],
        failedAt: () -> Timestamp,
        into outputs: inout OutputBatch
    ) -> RouteSummary {
        let receivedAt = Timestamp(millisecondsSinceEpoch: source.timestampMs)
        switch engine.route(value, receivedAt: receivedAt) {
        case .rejected(let rejection):
            let dlqHeaders = deadLetterHeaders(original: headers(), rejection: rejection, source: source, failedAt: failedAt()) + extraHeaders
            outputs.append(topic: topics.failuresDLQ, key: key, headers: dlqHeaders, timestampMs: source.timestampMs) {
                $0.append(contentsOf: value)
            }
            return .deadLettered(rejection.code)
        case .routed(let routed):
            let category = routed.classification.category
            let reportKey = routed.report.reportId
            var copies = 0
            func emit(_ topic: String, role: RoutedRole) {
                var keyBytes = reportKey
                keyBytes.withUTF8 { keyBuffer in
                    outputs.append(topic: topic, key: UnsafeRawBufferPointer(keyBuffer), headers: extraHeaders,
                                   category: category, role: role) {
                        encoder.append(routed, role: role, originalReport: value, to: &$0)
                    }
                }
                copies += 1
            }
            emit(inboxTopics[routed.owner.code] ?? topics.inbox(region: routed.owner.code), role: .owner)
            for region in routed.cc {
                emit(inboxTopics[region] ?? topics.inbox(region: region), role: .cc)
            }
            if routed.sendsOpsCopy {
                emit(topics.ops, role: .ops)
            }
            return .routed(category: category, owner: routed.owner.code, copies: copies)
        }
    }

    /// The original headers minus any earlier Baocuo error headers, plus this failure's
    /// (CONTRACT §1). A re-driven record keeps its first origin (`baocuo.source.*`) so the first
    /// failure stays traceable, and counts attempts.
    func deadLetterHeaders(original: [KafkaHeader], rejection: Rejection, source: SourcePosition, failedAt: Timestamp) -> [KafkaHeader] {
        var previous: [String: [UInt8]?] = [:]
        var headers: [KafkaHeader] = []
        for header in original {
            if DeadLetterHeader.all.contains(header.key) {
                previous[header.key] = header.value
            } else {
                headers.append(header)
            }
        }
        let attempts = previous[DeadLetterHeader.attempts].flatMap { $0.flatMap { Int(String(decoding: $0, as: UTF8.self)) } } ?? 0
        headers.append(KafkaHeader(key: DeadLetterHeader.errorCode, value: rejection.code.rawValue))
        headers.append(KafkaHeader(key: DeadLetterHeader.errorDetail, value: rejection.detail))
        if previous[DeadLetterHeader.sourceTopic] != nil {
            for key in DeadLetterHeader.sourceKeys {
                headers.append(KafkaHeader(key: key, value: previous[key] ?? nil))
            }
        } else {
            headers.append(KafkaHeader(key: DeadLetterHeader.sourceTopic, value: source.topic))
            headers.append(KafkaHeader(key: DeadLetterHeader.sourcePartition, value: String(source.partition)))
            headers.append(KafkaHeader(key: DeadLetterHeader.sourceOffset, value: String(source.offset)))
            headers.append(KafkaHeader(key: DeadLetterHeader.sourceTimestamp,
                                        value: Timestamp(millisecondsSinceEpoch: source.timestampMs).rfc3339(utcOffsetSeconds: utcOffsetSeconds)))
            headers.append(KafkaHeader(key: DeadLetterHeader.sourceGroup, value: group))
        }
        headers.append(KafkaHeader(key: DeadLetterHeader.failedAt, value: failedAt.rfc3339(utcOffsetSeconds: utcOffsetSeconds)))
        headers.append(KafkaHeader(key: DeadLetterHeader.attempts, value: String(attempts + 1)))
        return headers
    }
}

/// Dead-letter header names (CONTRACT §1).
public enum DeadLetterHeader {
    public static let errorCode = "baocuo.error.code"
    public static let errorDetail = "baocuo.error.detail"
    public static let sourceTopic = "baocuo.source.topic"
    public static let sourcePartition = "baocuo.source.partition"
    public static let sourceOffset = "baocuo.source.offset"
    public static let sourceTimestamp = "baocuo.source.timestamp"
    public static let sourceGroup = "baocuo.source.group"
    public static let failedAt = "baocuo.failed.at"
    public static let attempts = "baocuo.attempts"
    static let sourceKeys = [sourceTopic, sourcePartition, sourceOffset, sourceTimestamp, sourceGroup]
    static let all: Set<String> = Set([errorCode, errorDetail, failedAt, attempts] + sourceKeys)
}
