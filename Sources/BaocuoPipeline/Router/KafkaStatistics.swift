import BaocuoKafka
import Foundation

/// The parts of a librdkafka statistics report (the JSON of `statistics.interval.ms`, see
/// librdkafka's STATISTICS.md) that Baocuo exports as metrics and uses for readiness.
public struct KafkaStatistics: Sendable, Equatable {
    /// One broker as the client sees it.
    public struct Broker: Sendable, Equatable {
        /// The broker's node id.
        public var nodeID: Int32
        /// `UP`, `DOWN`, `CONNECT`, `AUTH`, …
        public var state: String
        /// Windowed average round-trip time; nil when the window holds no request.
        public var rttAverageMicroseconds: Int64?

        /// Whether the connection is up (`state` is `UP`).
        public var isUp: Bool { state == "UP" }

        /// A broker as parsed from a statistics report.
        public init(nodeID: Int32, state: String, rttAverageMicroseconds: Int64?) {
            self.nodeID = nodeID
            self.state = state
            self.rttAverageMicroseconds = rttAverageMicroseconds
        }
    }

    /// One consumed partition.
    public struct Partition: Sendable, Equatable {
        /// The topic and partition.
        public var topicPartition: TopicPartition
        /// Messages between the consumer's position and the high watermark; nil when unknown (not fetched).
        public var consumerLag: Int64?

        /// A partition as parsed from a statistics report.
        public init(topicPartition: TopicPartition, consumerLag: Int64?) {
            self.topicPartition = topicPartition
            self.consumerLag = consumerLag
        }
    }

    /// The cluster's brokers (bootstrap placeholders and librdkafka's logical and internal brokers,
    /// such as the group coordinator's alias, are left out).
    public var brokers: [Broker]
    /// Real partitions (librdkafka's internal unassigned partition -1 is left out).
    public var partitions: [Partition]
    /// Rebalances of the consumer group since the client started (consumers in a group only).
    public var rebalanceCount: Int64?

    /// Nil when `json` is not a statistics object.
    public init?(json: String) {
        guard let report = try? JSONDecoder().decode(Report.self, from: Data(json.utf8)) else { return nil }
        brokers = (report.brokers ?? [:]).values.compactMap { broker in
            guard let nodeID = broker.nodeid, nodeID >= 0, !["logical", "internal"].contains(broker.source) else { return nil }
            let samples = broker.rtt?.cnt ?? 0
            return Broker(nodeID: Int32(nodeID), state: broker.state ?? "", rttAverageMicroseconds: samples > 0 ? broker.rtt?.avg : nil)
        }.sorted { $0.nodeID < $1.nodeID }
        var partitions: [Partition] = []
        for (name, topic) in report.topics ?? [:] {
            for partition in (topic.partitions ?? [:]).values {
                guard let number = partition.partition, number >= 0 else { continue }
                let lag = partition.consumerLag.flatMap { $0 >= 0 ? $0 : nil }
                partitions.append(Partition(topicPartition: TopicPartition(topic: name, partition: Int32(number)), consumerLag: lag))
            }
        }
        self.partitions = partitions.sorted {
            ($0.topicPartition.topic, $0.topicPartition.partition) < ($1.topicPartition.topic, $1.topicPartition.partition)
        }
        rebalanceCount = report.cgrp?.rebalanceCount
    }

    /// The statistics JSON, as much of it as is read (librdkafka's names; every field optional).
    private struct Report: Decodable {
        struct Broker: Decodable {
            struct RTT: Decodable {
                var avg: Int64?
                var cnt: Int64?
            }

            var nodeid: Int64?
            var state: String?
            var source: String?
            var rtt: RTT?
        }

        struct Topic: Decodable {
            struct Partition: Decodable {
                var partition: Int64?
                var consumerLag: Int64?

                enum CodingKeys: String, CodingKey {
                    case partition
                    case consumerLag = "consumer_lag"
                }
            }

            var partitions: [String: Partition]?
        }

        struct ConsumerGroup: Decodable {
            var rebalanceCount: Int64?

            enum CodingKeys: String, CodingKey { case rebalanceCount = "rebalance_cnt" }
        }

        var brokers: [String: Broker]?
        var topics: [String: Topic]?
        var cgrp: ConsumerGroup?
    }
}
