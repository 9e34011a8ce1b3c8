/// The librdkafka property names Baocuo sets, each spelled once (librdkafka's CONFIGURATION.md).
enum PropertyName {
    static let bootstrapServers = "bootstrap.servers"
    static let groupID = "group.id"
    static let clientID = "client.id"
    static let enableAutoCommit = "enable.auto.commit"
    static let enableAutoOffsetStore = "enable.auto.offset.store"
    static let autoOffsetReset = "auto.offset.reset"
    static let assignmentStrategy = "partition.assignment.strategy"
    static let sessionTimeout = "session.timeout.ms"
    static let heartbeatInterval = "heartbeat.interval.ms"
    static let fetchWaitMax = "fetch.wait.max.ms"
    static let isolationLevel = "isolation.level"
    static let enablePartitionEOF = "enable.partition.eof"
    static let statisticsInterval = "statistics.interval.ms"
    static let enableIdempotence = "enable.idempotence"
    static let linger = "linger.ms"
    static let batchSize = "batch.num.messages"
    static let queueBufferingMaxMessages = "queue.buffering.max.messages"
    static let messageMaxBytes = "message.max.bytes"
    static let socketNagleDisable = "socket.nagle.disable"

    /// Consumer settings a shared property map (`kafka.properties`) may carry that a producer or an
    /// admin client rejects or warns about: left out of their overrides.
    static let consumerOnly: Set<String> = [
        groupID, sessionTimeout, heartbeatInterval, autoOffsetReset, enableAutoCommit,
        enableAutoOffsetStore, assignmentStrategy, fetchWaitMax, "max.poll.interval.ms",
        "fetch.min.bytes", "fetch.max.bytes", "max.partition.fetch.bytes", isolationLevel, "group.instance.id",
        enablePartitionEOF,
    ]
}

/// How a group consumer's partitions are assigned (`partition.assignment.strategy`).
public struct PartitionAssignmentStrategy: RawRepresentable, Hashable, Sendable {
    /// The librdkafka value, e.g. `"cooperative-sticky"`.
    public var rawValue: String

    /// Any librdkafka assignor list, e.g. `"range,roundrobin"`.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Eager rebalancing (librdkafka's own default): every group change revokes every partition.
    public static let eager = PartitionAssignmentStrategy(rawValue: "range,roundrobin")
    /// Incremental rebalancing: only the partitions that change owner are revoked (librdkafka ≥ 2.4,
    /// ``RebalanceProtocol/cooperativeMinimumVersion``).
    public static let cooperativeSticky = PartitionAssignmentStrategy(rawValue: "cooperative-sticky")

    /// ``cooperativeSticky`` where the runtime library supports it, else ``eager`` (2.0.2 has a
    /// lag-spike bug with cooperative-sticky).
    public static var preferred: PartitionAssignmentStrategy {
        RebalanceProtocol.cooperativeSupported ? .cooperativeSticky : .eager
    }

    /// Whether the value names a cooperative assignor.
    public var isCooperative: Bool { rawValue.contains("cooperative") }
}

/// Where a consumer starts in a partition without a committed offset (`auto.offset.reset`).
public enum AutoOffsetReset: String, Sendable {
    case earliest
    case latest
}

/// Which records a consumer reads (`isolation.level`).
public enum IsolationLevel: String, Sendable {
    /// Only records of committed (or no) transactions.
    case readCommitted = "read_committed"
    case readUncommitted = "read_uncommitted"
}

/// A consumer's settings, typed for what Baocuo sets, with the deployment's librdkafka properties
/// (`kafka.properties`: TLS, SASL, tuning) applied over them.
///
/// Fields left `nil` are not set, so librdkafka's default (or ``KafkaConsumer``'s) applies. Every
/// Baocuo consumer commits explicitly: `enable.auto.commit` is always `false` unless overridden.
public struct ConsumerConfiguration: Sendable, Hashable {
    /// `bootstrap.servers`: `HOST:PORT[,…]`.
    public var bootstrapServers: String
    /// `group.id`: the consumer group (committed offsets are kept per group).
    public var groupID: String?
    /// `client.id`: the name brokers and logs show for this client.
    public var clientID: String?
    /// Where to start in a partition without a committed offset.
    public var autoOffsetReset: AutoOffsetReset?
    /// Group consumers only; ``KafkaConsumer`` defaults to ``PartitionAssignmentStrategy/eager``.
    public var assignmentStrategy: PartitionAssignmentStrategy?
    /// `session.timeout.ms`: how long the group waits for a silent member before rebalancing.
    public var sessionTimeout: Duration?
    /// `heartbeat.interval.ms`: how often a member tells the coordinator it is alive.
    public var heartbeatInterval: Duration?
    /// The longest a broker holds a fetch that has no records yet.
    public var fetchWaitMax: Duration?
    /// Which records of transactional producers are read.
    public var isolationLevel: IsolationLevel?
    /// Report reaching a partition's end as an event (`enable.partition.eof`).
    public var reportsPartitionEnd: Bool
    /// How often librdkafka's statistics JSON reaches the statistics handler.
    public var statisticsInterval: Duration?
    /// librdkafka properties applied last: they win over every field above.
    public var overrides: [String: String]

    /// Settings with `bootstrapServers`; every other field is optional.
    public init(
        bootstrapServers: String,
        groupID: String? = nil,
        clientID: String? = nil,
        autoOffsetReset: AutoOffsetReset? = nil,
        assignmentStrategy: PartitionAssignmentStrategy? = nil,
        sessionTimeout: Duration? = nil,
        heartbeatInterval: Duration? = nil,
        fetchWaitMax: Duration? = nil,
        isolationLevel: IsolationLevel? = nil,
        reportsPartitionEnd: Bool = false,
        statisticsInterval: Duration? = nil,
        overrides: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
        self.clientID = clientID
        self.autoOffsetReset = autoOffsetReset
        self.assignmentStrategy = assignmentStrategy
        self.sessionTimeout = sessionTimeout
        self.heartbeatInterval = heartbeatInterval
        self.fetchWaitMax = fetchWaitMax
        self.isolationLevel = isolationLevel
        self.reportsPartitionEnd = reportsPartitionEnd
        self.statisticsInterval = statisticsInterval
        self.overrides = overrides
    }

    /// `properties` without `group.id`: for a client whose group is its own (replay), never the
    /// one a shared property map names.
    public static func withoutGroupID(_ properties: [String: String]) -> [String: String] {
        properties.filter { $0.key != PropertyName.groupID }
    }

    /// The librdkafka properties: the fields, then ``overrides``.
    public var properties: KafkaConfiguration {
        var properties = [
            PropertyName.bootstrapServers: bootstrapServers,
            PropertyName.enableAutoCommit: "false",
        ]
        properties[PropertyName.groupID] = groupID
        properties[PropertyName.clientID] = clientID
        properties[PropertyName.autoOffsetReset] = autoOffsetReset?.rawValue
        properties[PropertyName.assignmentStrategy] = assignmentStrategy?.rawValue
        properties[PropertyName.sessionTimeout] = sessionTimeout.map(milliseconds)
        properties[PropertyName.heartbeatInterval] = heartbeatInterval.map(milliseconds)
        properties[PropertyName.fetchWaitMax] = fetchWaitMax.map(milliseconds)
        properties[PropertyName.isolationLevel] = isolationLevel?.rawValue
        if reportsPartitionEnd { properties[PropertyName.enablePartitionEOF] = "true" }
        properties[PropertyName.statisticsInterval] = statisticsInterval.map(milliseconds)
        properties.merge(overrides) { _, override in override }
        return KafkaConfiguration(properties)
    }
}

/// A producer's settings, typed for what Baocuo sets, with the deployment's librdkafka properties
/// applied over them (their consumer-only settings left out, so one shared map serves every client).
public struct ProducerConfiguration: Sendable, Hashable {
    /// `bootstrap.servers`: `HOST:PORT[,…]`.
    public var bootstrapServers: String
    /// `client.id`: the name brokers and logs show for this client.
    public var clientID: String?
    /// Broker-side retries never duplicate or reorder a record (`enable.idempotence`).
    public var idempotence: Bool
    /// How long a record may wait for others to fill its batch (`linger.ms`).
    public var linger: Duration?
    /// Records per produce batch (`batch.num.messages`).
    public var batchSize: Int?
    /// Records the producer may hold unacknowledged (`queue.buffering.max.messages`).
    public var maxQueuedRecords: Int?
    /// The largest produce request (`message.max.bytes`).
    public var maxMessageBytes: Int?
    /// How often librdkafka's statistics JSON reaches the statistics handler.
    public var statisticsInterval: Duration?
    /// librdkafka properties applied last, except consumer-only ones: they win over the fields.
    public var overrides: [String: String]

    /// Settings with `bootstrapServers`; idempotent unless `idempotence` is false.
    public init(
        bootstrapServers: String,
        clientID: String? = nil,
        idempotence: Bool = true,
        linger: Duration? = nil,
        batchSize: Int? = nil,
        maxQueuedRecords: Int? = nil,
        maxMessageBytes: Int? = nil,
        statisticsInterval: Duration? = nil,
        overrides: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.idempotence = idempotence
        self.linger = linger
        self.batchSize = batchSize
        self.maxQueuedRecords = maxQueuedRecords
        self.maxMessageBytes = maxMessageBytes
        self.statisticsInterval = statisticsInterval
        self.overrides = overrides
    }

    /// What ``KafkaProducer`` adds to a raw ``KafkaConfiguration`` for keys left unset.
    static let defaults = [PropertyName.enableIdempotence: "true"]

    /// The librdkafka properties: the fields, then ``overrides`` without consumer-only settings.
    public var properties: KafkaConfiguration {
        var properties = [
            PropertyName.bootstrapServers: bootstrapServers,
            PropertyName.enableIdempotence: idempotence ? "true" : "false",
        ]
        properties[PropertyName.clientID] = clientID
        properties[PropertyName.linger] = linger.map(milliseconds)
        properties[PropertyName.batchSize] = batchSize.map(String.init)
        properties[PropertyName.queueBufferingMaxMessages] = maxQueuedRecords.map(String.init)
        properties[PropertyName.messageMaxBytes] = maxMessageBytes.map(String.init)
        properties[PropertyName.statisticsInterval] = statisticsInterval.map(milliseconds)
        properties.merge(overrides.filter { !PropertyName.consumerOnly.contains($0.key) }) { _, override in override }
        return KafkaConfiguration(properties)
    }
}

/// An admin client's settings: the bootstrap servers, and the deployment's librdkafka properties
/// (their consumer-only settings left out). ``bootstrapServers`` wins over an override.
public struct AdminConfiguration: Sendable, Hashable {
    /// `bootstrap.servers`: `HOST:PORT[,…]`.
    public var bootstrapServers: String
    /// The deployment's librdkafka properties (TLS, SASL, …).
    public var overrides: [String: String]

    /// Settings with `bootstrapServers` and the deployment's properties.
    public init(bootstrapServers: String, overrides: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.overrides = overrides
    }

    /// The librdkafka properties.
    public var properties: KafkaConfiguration {
        var properties = overrides.filter { !PropertyName.consumerOnly.contains($0.key) }
        properties[PropertyName.bootstrapServers] = bootstrapServers
        return KafkaConfiguration(properties)
    }
}

/// Whole milliseconds of `duration` as a property value.
private func milliseconds(_ duration: Duration) -> String {
    String(duration.kafkaMilliseconds)
}
