import BaocuoDomain
import BaocuoKafka

/// Where a consumed record came from: what the DLQ headers and the offset tracker need.
public struct SourcePosition: Sendable {
    /// The topic the record was read from.
    public var topic: String
    /// Its partition.
    public var partition: Int32
    /// Its offset within the partition.
    public var offset: Int64
    /// Its Kafka timestamp, in milliseconds since the Unix epoch.
    public var timestampMs: Int64

    /// The position of a consumed record.
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
    /// One output: where it goes and where its bytes are in ``OutputBatch/arena``.
    public struct Record: Sendable {
        /// The topic to produce to.
        public var topic: String
        /// A small number naming `topic` (see ``RecordRouter``): outputs are produced grouped by it.
        public var destination: Int
        /// The key's bytes in the arena; `nil` for a null key.
        public var key: Range<Int>?
        /// The value's bytes in the arena.
        public var value: Range<Int>
        /// Headers to attach (dead-letter records only; routed copies carry none).
        public var headers: [KafkaHeader]
        /// The source record's timestamp for dead-letter records (they keep the original's).
        public var timestampMs: Int64?
        /// The routed category (routed copies only).
        public var category: Category?
        /// Owner, cc or ops copy (routed copies only; `nil` for a dead letter).
        public var role: RoutedRole?

        /// No headers and no timestamp of its own: it can be produced in a run of its destination.
        var isPlain: Bool { headers.isEmpty && timestampMs == nil }
    }

    /// The key and value bytes of one record.
    public typealias RecordBytes = (key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer)

    /// The key and value bytes of every record, back to back.
    public private(set) var arena: [UInt8] = []
    /// The records, in routing order.
    public private(set) var records: [Record] = []
    /// The JSON parser the router reuses for every record (its tape is the per-record scratch).
    var parser = JSONParser()
    /// The order in which `OutputDelivery` produces the records (reused scratch).
    var grouping = DestinationGrouping()

    /// An empty batch; reuse it with ``removeAll()``.
    public init() {}

    /// Empties the batch, keeping its capacity for the next one.
    public mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
    }

    /// Drops the records from `index` on (and their bytes): a replay keeps only the outputs of
    /// records whose routing changed.
    mutating func removeRecords(from index: Int) {
        guard index < records.count else { return }
        let first = records[index]
        arena.removeSubrange((first.key?.lowerBound ?? first.value.lowerBound)...)
        records.removeSubrange(index...)
    }

    mutating func append(
        topic: String, destination: Int, key: UnsafeRawBufferPointer?, headers: [KafkaHeader] = [], timestampMs: Int64? = nil,
        category: Category? = nil, role: RoutedRole? = nil, writeValue: (inout [UInt8]) -> Void
    ) {
        var keyRange: Range<Int>?
        if let key {
            let start = arena.count
            arena.append(contentsOf: key)
            keyRange = start..<arena.count
        }
        let valueStart = arena.count
        writeValue(&arena)
        records.append(
            Record(
                topic: topic, destination: destination, key: keyRange, value: valueStart..<arena.count, headers: headers,
                timestampMs: timestampMs, category: category, role: role))
    }

    /// Calls `body` with the key and value bytes of record `index`.
    public func withBytes<R>(of index: Int, _ body: (UnsafeRawBufferPointer?, UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withRecordBytes { bytes in
            let (key, value) = bytes(records[index])
            return try body(key, value)
        }
    }

    /// Calls `body` with a function that gives any record's key and value bytes, valid inside `body`
    /// (one pinning of the arena for a whole batch, not one per record).
    public func withRecordBytes<R>(_ body: (_ bytes: (Record) -> RecordBytes) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes { raw in
            try body { record in
                (record.key.map { UnsafeRawBufferPointer(rebasing: raw[$0]) }, UnsafeRawBufferPointer(rebasing: raw[record.value]))
            }
        }
    }
}

/// What happened to one consumed record.
public enum RouteSummary: Sendable {
    /// Routed: the category, the owner's region code and how many copies (owner, cc, ops) were written.
    case routed(category: Category, owner: String, copies: Int)
    /// Dead-lettered with this code.
    case deadLettered(RejectCode)
}

/// Turns one consumed ingest record into its output records: the owner copy, cc copies, the masked
/// ops copy, or one dead-letter record (CONTRACT §1–§3). Immutable; replaced whole on a reload.
public struct RecordRouter: Sendable {
    /// Decodes, resolves, classifies and places each report.
    public let engine: RoutingEngine
    /// Writes the routed v1 copies.
    public let encoder: RoutedRecordEncoder
    /// The topic names under the configured prefix.
    public let topics: TopicNames
    /// The consumer group, written to the `baocuo.source.group` header of dead-letter records.
    public let group: String
    /// The service zone's offset east of UTC, in seconds: dead-letter header times are written in it.
    public let utcOffsetSeconds: Int
    /// Every output topic by destination number: the dead-letter topic, the ops topic, then one
    /// inbox per region of the table.
    public let destinations: [String]
    private let inboxDestinations: [String: Int]
    private static let deadLetterDestination = 0
    private static let opsDestination = 1

    /// A router for `configuration`'s rules, regions, calendar and topic prefix, reading as consumer `group`.
    public init(configuration: DomainConfiguration, group: String) {
        let settings = configuration.settings
        engine = RoutingEngine(configuration: configuration)
        encoder = RoutedRecordEncoder(configuration: configuration)
        topics = TopicNames(prefix: settings.topicPrefix)
        self.group = group
        utcOffsetSeconds = settings.schedule.utcOffsetSeconds
        var destinations = [topics.failuresDLQ, topics.ops]
        var inboxDestinations: [String: Int] = [:]
        for region in configuration.regions.regions {
            inboxDestinations[region.code] = destinations.count
            destinations.append(topics.inbox(region: region.code))
        }
        self.destinations = destinations
        self.inboxDestinations = inboxDestinations
    }

    /// The destination number of `region`'s inbox; a region the table no longer has gets a number
    /// of its own past the table's (its records are produced one by one, by topic name).
    func inboxDestination(region: String) -> Int {
        inboxDestinations[region] ?? destinations.count
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
        switch engine.route(value, receivedAt: receivedAt, using: &outputs.parser) {
        case .rejected(let rejection):
            let dlqHeaders =
                DeadLetterHeader.headers(
                    original: headers(), rejection: rejection, source: source, group: group,
                    failedAt: failedAt(), utcOffsetSeconds: utcOffsetSeconds) + extraHeaders
            outputs.append(
                topic: destinations[Self.deadLetterDestination], destination: Self.deadLetterDestination, key: key,
                headers: dlqHeaders, timestampMs: source.timestampMs
            ) {
                $0.append(contentsOf: value)
            }
            return .deadLettered(rejection.code)
        case .routed(let routed):
            let category = routed.classification.category
            var copies = 0
            func emit(_ destination: Int, role: RoutedRole) {
                // The key is the report ID's bytes in place: no String per record.
                routed.withReportIdUTF8 { keyBuffer in
                    outputs.append(
                        topic: destinations[destination], destination: destination, key: keyBuffer,
                        headers: extraHeaders, category: category, role: role
                    ) {
                        encoder.append(routed, role: role, originalReport: value, to: &$0)
                    }
                }
                copies += 1
            }
            // Owner and cc regions come from the region table, so every one has an inbox destination.
            emit(inboxDestinations[routed.owner.code]!, role: .owner)
            for region in routed.cc {
                emit(inboxDestinations[region]!, role: .cc)
            }
            if routed.sendsOpsCopy {
                emit(Self.opsDestination, role: .ops)
            }
            return .routed(category: category, owner: routed.owner.code, copies: copies)
        }
    }
}
