import BaocuoDomain
import BaocuoKafka

/// Which records of the source topic a replay takes: a range (by offsets or by receive time, or the
/// whole topic) narrowed, optionally, to a set of report ids.
public struct ReplaySelection: Sendable, Hashable {
    /// Which offsets of the source topic: a range of offsets, a time range, or everything.
    public enum Range: Sendable, Hashable {
        /// Offsets `start..<end` of one partition, or of every partition when `partition` is nil;
        /// a missing bound is the partition's low / high watermark.
        case offsets(partition: Int32?, start: Int64?, end: Int64?)
        /// Records whose timestamp (the receive time) lies in `since..<until`.
        case time(since: Timestamp, until: Timestamp)
        /// Every record of every partition (with a report id filter).
        case all
    }

    /// The offsets, time range or whole topic to read.
    public var range: Range
    /// When set, only records whose key or decoded reportId is in the set.
    public var reportIds: Set<String>?

    /// A selection of `range`, narrowed to `reportIds` when given.
    public init(range: Range, reportIds: Set<String>? = nil) {
        self.range = range
        self.reportIds = reportIds
    }

    /// A stable description, the basis of the run id (so that a resumed run keeps its id).
    var canonicalDescription: String {
        var text: String
        switch range {
        case .offsets(let partition, let start, let end):
            text = "offsets p=\(partition.map(String.init) ?? "*") \(start.map(String.init) ?? "low")..<\(end.map(String.init) ?? "high")"
        case .time(let since, let until):
            text = "time \(since.millisecondsSinceEpoch)..<\(until.millisecondsSinceEpoch)"
        case .all:
            text = "all"
        }
        if let reportIds { text += " ids " + reportIds.sorted().joined(separator: ",") }
        return text
    }
}

/// Settings of one `baocuo replay` run.
public struct ReplayOptions: Sendable {
    /// Bootstrap brokers, a comma-separated `host:port` list.
    public var brokers: String
    /// The topic to read: the ingest topic, or its dead-letter topic for a re-drive.
    public var sourceTopic: String
    /// The replay's own consumer group: its committed offsets are the checkpoint.
    public var group: String
    /// The router fleet's group, which a replay refuses to use (besides `baocuo-router`).
    public var fleetGroup: String
    /// Which records of `sourceTopic` to replay.
    public var selection: ReplaySelection
    /// False: preview only (nothing produced, nothing committed).
    public var execute: Bool
    /// `--all`: produce the outputs of every selected record, not only of those whose routing
    /// outcome differs from the standing decision (and dead-letter again what is rejected again).
    public var reEmitAll: Bool
    /// Records per second when executing; nil: as fast as the cluster acknowledges.
    public var recordsPerSecond: Int?
    /// Ignore the group's checkpoint and start the range over.
    public var restart: Bool
    /// librdkafka properties (TLS, SASL, …) applied over Baocuo's defaults.
    public var kafkaProperties: [String: String]
    /// ``kafkaProperties`` for the replay's consumers: their group is ``group``, never one the
    /// shared property map names.
    var consumerOverrides: [String: String] { ConsumerConfiguration.withoutGroupID(kafkaProperties) }
    /// Records taken per poll (also bounded by `recordsPerSecond` when set).
    public var pollBatchSize: Int
    /// How often the checkpoint (the group's offsets) is committed while producing.
    public var commitInterval: Duration
    /// On a stop or at the end: the bound on waiting for outstanding outputs, and again on the final commit.
    public var drainTimeout: Duration
    /// The largest input record (CONTRACT §2 limit), as for the router.
    public var maxRecordBytes: Int

    /// Options for a preview unless `execute`; the defaults suit an operator's run (500-record polls, 30 s drain).
    public init(
        brokers: String, sourceTopic: String, group: String, fleetGroup: String = "baocuo-router",
        selection: ReplaySelection, execute: Bool = false, reEmitAll: Bool = false, recordsPerSecond: Int? = nil,
        restart: Bool = false, kafkaProperties: [String: String] = [:],
        pollBatchSize: Int = 500, commitInterval: Duration = .milliseconds(500), drainTimeout: Duration = .seconds(30),
        maxRecordBytes: Int = 1 << 20
    ) {
        self.brokers = brokers
        self.sourceTopic = sourceTopic
        self.group = group
        self.fleetGroup = fleetGroup
        self.selection = selection
        self.execute = execute
        self.reEmitAll = reEmitAll
        self.recordsPerSecond = recordsPerSecond
        self.restart = restart
        self.kafkaProperties = kafkaProperties
        self.pollBatchSize = pollBatchSize
        self.commitInterval = commitInterval
        self.drainTimeout = drainTimeout
        self.maxRecordBytes = maxRecordBytes
    }

    /// Throws when `group` is the fleet's: committing there would move the fleet's offsets.
    func validateGroup() throws(ReplayError) {
        if group == "baocuo-router" || group == fleetGroup { throw .fleetGroup(group) }
    }

    /// The default group of a replay of `topic`.
    public static func defaultGroup(topic: String) -> String { "baocuo-replay-\(topic)" }

    /// The run id stamped on every output (`baocuo.replay.id`): the same for the same group, topic and
    /// selection, so a resumed run continues under its id and recognises its own dead-letter records.
    public var runID: String {
        let hash = StableHash.fnv1a("\(group)|\(sourceTopic)|\(selection.canonicalDescription)")
        let hex = String(hash, radix: 16)
        return "replay-" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Provenance headers of every replayed output.
public enum ReplayHeader {
    /// The run id (``ReplayOptions/runID``).
    public static let id = "baocuo.replay.id"
    /// The replayed record: `topic[partition]@offset`.
    public static let source = "baocuo.replay.source"
    /// When it was replayed, RFC 3339 in the deployment's zone.
    public static let at = "baocuo.replay.at"
    static let all: Set<String> = [id, source, at]
}

/// A replay that cannot start, or that stopped on a failed delivery.
public enum ReplayError: Error, CustomStringConvertible {
    /// The replay's group is the router fleet's (or `baocuo-router`): committing there would move the fleet.
    case fleetGroup(String)
    /// The source topic does not exist.
    case unknownTopic(String)
    /// The source topic (first value) has no such partition.
    case unknownPartition(String, Int32)
    /// An output was not acknowledged: the replay stopped without moving the checkpoint past it.
    case deliveryFailed(KafkaError)

    /// What prevents the replay from starting or finishing, and what to do about it.
    public var description: String {
        switch self {
        case .fleetGroup(let group):
            "group \(group) is the router fleet's: a replay commits its own checkpoint and must use its own group (--group)"
        case .unknownTopic(let topic):
            "topic \(topic) does not exist"
        case .unknownPartition(let topic, let partition):
            "topic \(topic) has no partition \(partition)"
        case .deliveryFailed(let error):
            "an output could not be delivered (\(error)); stopped without moving the checkpoint past it"
        }
    }
}
