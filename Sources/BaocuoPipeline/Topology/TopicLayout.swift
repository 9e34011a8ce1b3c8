import BaocuoDomain

/// The topics a Baocuo deployment needs, with partition counts (CONTRACT §1). Used to create them
/// on the embedded cluster and to write `Deploy/topics.txt` (Deploy/generate-topics.py).
public struct TopicLayout: Sendable {
    public struct Topic: Sendable, Hashable {
        public var name: String
        public var partitions: Int
    }

    public let topics: [Topic]

    /// `inputPartitions`: the ingest topic bounds how many workers share the load.
    public init(names: TopicNames, regions: RegionTable, inputPartitions: Int = 16, inboxPartitions: Int = 2) {
        var topics = [
            Topic(name: names.failures, partitions: inputPartitions),
            Topic(name: names.failuresDLQ, partitions: 4),
            Topic(name: names.ops, partitions: 4),
            Topic(name: names.resolutions, partitions: 4),
            Topic(name: names.resolutionsDLQ, partitions: 1),
            // Small and read whole at every scheduler tick; one partition keeps markers in emission order.
            Topic(name: names.batches, partitions: 1),
        ]
        for region in regions.regions {
            topics.append(Topic(name: names.inbox(region: region.code), partitions: inboxPartitions))
            topics.append(Topic(name: names.intake(region: region.code), partitions: 1))
        }
        for province in regions.provinces {
            topics.append(Topic(name: names.returns(province: province), partitions: 1))
        }
        self.topics = topics
    }
}
