import BaocuoKafka
import Foundation

/// The parts of a librdkafka statistics report (the JSON of `statistics.interval.ms`, see
/// librdkafka's STATISTICS.md) that Baocuo exports as metrics and uses for readiness.
public struct KafkaStatistics: Sendable, Equatable {
    public struct Broker: Sendable, Equatable {
        public var nodeID: Int32
        /// `UP`, `DOWN`, `CONNECT`, `AUTH`, …
        public var state: String
        /// Windowed average round-trip time; nil when the window holds no request.
        public var rttAverageMicroseconds: Int64?

        public var isUp: Bool { state == "UP" }

        public init(nodeID: Int32, state: String, rttAverageMicroseconds: Int64?) {
            self.nodeID = nodeID
            self.state = state
            self.rttAverageMicroseconds = rttAverageMicroseconds
        }
    }

    public struct Partition: Sendable, Equatable {
        public var topicPartition: TopicPartition
        /// Messages between the consumer's position and the high watermark; nil when unknown (not fetched).
        public var consumerLag: Int64?

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
        guard let root = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else { return nil }
        brokers = ((root["brokers"] as? [String: Any]) ?? [:]).values.compactMap { value in
            guard let broker = value as? [String: Any], let nodeID = Self.integer(broker["nodeid"]), nodeID >= 0,
                  !["logical", "internal"].contains(broker["source"] as? String) else { return nil }
            let rtt = broker["rtt"] as? [String: Any]
            let samples = Self.integer(rtt?["cnt"]) ?? 0
            return Broker(nodeID: Int32(nodeID), state: broker["state"] as? String ?? "",
                          rttAverageMicroseconds: samples > 0 ? Self.integer(rtt?["avg"]) : nil)
        }.sorted { $0.nodeID < $1.nodeID }
        var partitions: [Partition] = []
        for (name, value) in (root["topics"] as? [String: Any]) ?? [:] {
            for entry in ((value as? [String: Any])?["partitions"] as? [String: Any] ?? [:]).values {
                guard let partition = entry as? [String: Any], let number = Self.integer(partition["partition"]), number >= 0 else { continue }
                let lag = Self.integer(partition["consumer_lag"]).flatMap { $0 >= 0 ? $0 : nil }
                partitions.append(Partition(topicPartition: TopicPartition(topic: name, partition: Int32(number)), consumerLag: lag))
            }
        }
        self.partitions = partitions.sorted { ($0.topicPartition.topic, $0.topicPartition.partition) < ($1.topicPartition.topic, $1.topicPartition.partition) }
        rebalanceCount = Self.integer((root["cgrp"] as? [String: Any])?["rebalance_cnt"])
    }

    private static func integer(_ value: Any?) -> Int64? {
        (value as? NSNumber)?.int64Value
    }
}
