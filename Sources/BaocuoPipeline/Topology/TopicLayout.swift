import BaocuoDomain

/// The topics a Baocuo deployment needs (CONTRACT §1), with partition counts and topic configs:
/// the one layout the embedded cluster, the demo, the tests and `Deploy/topics.txt`
/// (`baocuo topics list`) are made from.
public struct TopicLayout: Sendable {
    /// One topic of the layout.
    public struct Topic: Sendable, Hashable {
        /// The full topic name, prefix included.
        public var name: String
        /// The partition count.
        public var partitions: Int
        /// Topic configs, `key=value`, for `kafka-topics.sh --config` (the mock cluster ignores them).
        public var configs: [String] = []
    }

    /// The ingest topic's partition count bounds how many workers share the load (RUNBOOK.md: Scale).
    public static let ingestPartitions = 16
    /// Partitions of each agency inbox topic (`yb.agency.{region}.inbox`), unless the caller asks otherwise.
    public static let inboxPartitions = 2

    /// Every topic of the deployment, with its partitions and configs.
    public let topics: [Topic]

    /// The layout for `names` with one inbox and resolutions topic per region of `regions`.
    public init(
        names: TopicNames, regions: RegionTable, inputPartitions: Int = TopicLayout.ingestPartitions,
        inboxPartitions: Int = TopicLayout.inboxPartitions
    ) {
        let day: Int64 = 24 * 60 * 60 * 1000
        // Routed records embed the report (up to the 1 MiB record limit) plus routing fields and
        // headers; the worker's producer allows 1 MiB + 64 KiB (1,114,112 bytes).
        let largeRecord = "max.message.bytes=1115000"
        // Replays and re-drives read the ingest topic back: a month of it.
        let ingestRetention = "retention.ms=\(30 * day)"
        // Dead letters wait for a rules or region-table fix and a re-drive.
        let dlqRetention = "retention.ms=\(90 * day)"
        let opsRetention = "retention.ms=\(30 * day)"
        // Weekly batches are rebuilt from the inboxes and resolutions, and returns carry unresolved
        // reports over from earlier weeks: a year of history plus a margin.
        let history = "retention.ms=\(400 * day)"
        // The broker, not the agency's producer, stamps a resolution's time: the deadline and the
        // shared topic's window are judged by it.
        let brokerTime = "message.timestamp.type=LogAppendTime"
        var topics = [
            Topic(name: names.failures, partitions: inputPartitions, configs: [ingestRetention, largeRecord]),
            Topic(name: names.failuresDLQ, partitions: 4, configs: [dlqRetention, largeRecord]),
            Topic(name: names.ops, partitions: 4, configs: [opsRetention, largeRecord]),
            // Deprecated (read until resolutions.sharedTopicUntil; RUNBOOK.md): no agency may write it
            // any more, and it goes once no report it resolved is still in an inbox.
            Topic(name: names.sharedResolutions, partitions: 4, configs: [history, brokerTime]),
            Topic(name: names.resolutionsDLQ, partitions: 1, configs: [dlqRetention, largeRecord]),
            // Small and read whole at every scheduler tick; one partition keeps markers in emission
            // order, and only the latest marker per batch id counts.
            Topic(name: names.batches, partitions: 1, configs: ["cleanup.policy=compact"]),
        ]
        for region in regions.regions.map(\.code).sorted() {
            topics.append(Topic(name: names.inbox(region: region), partitions: inboxPartitions, configs: [history, largeRecord]))
            topics.append(Topic(name: names.intake(region: region), partitions: 1, configs: [history]))
            topics.append(Topic(name: names.resolutions(region: region), partitions: 1, configs: [history, brokerTime]))
        }
        for province in regions.provinces.sorted() {
            topics.append(Topic(name: names.returns(province: province), partitions: 1, configs: [history]))
        }
        self.topics = topics
    }

    /// `Deploy/topics.txt`: `name partitions [config=value ...]` per line, in the order of CONTRACT §1.
    public var topicLines: [String] {
        topics.map { ([$0.name, String($0.partitions)] + $0.configs).joined(separator: " ") }
    }
}

/// The Kafka ACLs of a deployment (`Deploy/acls.txt`, `baocuo topics acls`): one
/// `kafka-acls.sh --add` argument list per line, least privilege per party (Deploy/acls.md).
/// Read implies Describe; Write on a topic implies cluster IdempotentWrite (Kafka ≥ 3.0).
public struct AccessControlList: Sendable {
    /// One `kafka-acls.sh --add` argument list per entry, in file order.
    public let lines: [String]

    /// The ACLs for the topics under `names.prefix` and one agency principal per region of `regions`.
    public init(names: TopicNames, regions: RegionTable) {
        let prefix = names.prefix
        let prefixed = "--resource-pattern-type prefixed"
        let codes = regions.regions.map(\.code).sorted()
        let provinces = regions.provinces.sorted()
        var lines = [
            // The worker owns the namespace: it reads the ingest topic, inboxes and resolutions,
            // writes every agency, province, ops and DLQ topic, and replays re-drive DLQs into their sources.
            // No transactional id: the batch scheduler's emission is idempotent, not transactional.
            "--allow-principal User:baocuo --operation Read --operation Write --topic \(prefix) \(prefixed)",
            "--allow-principal User:baocuo --operation Read --group baocuo- \(prefixed)",
            "--allow-principal User:ops --operation Read --topic \(names.ops)",
            "--allow-principal User:ops --operation Read --group ops- \(prefixed)",
            // Hospitals report through their provincial platform; a hospital principal is added the same way.
            (provinces.map { "--allow-principal User:platform-\($0)" } + ["--operation Write --topic \(names.failures)"])
                .joined(separator: " "),
        ]
        for region in codes {
            lines.append(
                "--allow-principal User:agency-\(region) --operation Read "
                    + "--topic \(names.inbox(region: region)) --topic \(names.intake(region: region))")
            lines.append("--allow-principal User:agency-\(region) --operation Read --group agency-\(region)- \(prefixed)")
            // An agency writes its own resolutions topic and no other: the topic names the resolving agency.
            lines.append("--allow-principal User:agency-\(region) --operation Write --topic \(names.resolutions(region: region))")
        }
        for province in provinces {
            lines.append("--allow-principal User:province-\(province) --operation Read --topic \(names.returns(province: province))")
            lines.append("--allow-principal User:province-\(province) --operation Read --group province-\(province)- \(prefixed)")
        }
        self.lines = lines
    }
}
