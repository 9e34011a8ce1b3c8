import BaocuoDomain
import BaocuoKafka
import Dispatch
import Metrics
import Synchronization

/// The names of Baocuo's Prometheus metrics, for every component that records them and for the
/// runbook's alerts.
public enum PipelineMetricNames {
    public static let recordsConsumed = "baocuo_records_consumed_total"
    /// Dimensions `category`, `agency` (the owner region).
    public static let recordsRouted = "baocuo_records_routed_total"
    public static let routedCopies = "baocuo_routed_copies_total"
    /// Dimension `code` (the reject code).
    public static let recordsDeadLettered = "baocuo_records_dead_lettered_total"
    public static let deliveryFailures = "baocuo_delivery_failures_total"
    public static let offsetCommits = "baocuo_offset_commits_total"
    public static let offsetCommitFailures = "baocuo_offset_commit_failures_total"
    /// A histogram: one sampled output per produced batch, from produce to the broker's acknowledgement.
    public static let produceLatency = "baocuo_produce_latency_seconds"
    /// Dimensions `topic`, `partition`; from librdkafka statistics.
    public static let consumerLag = "baocuo_consumer_lag"
    public static let consumerRebalances = "baocuo_consumer_rebalances_total"
    /// Dimension `broker` (node id); librdkafka's windowed average round-trip time.
    public static let brokerRTT = "baocuo_kafka_broker_rtt_seconds"
    public static let brokersUp = "baocuo_kafka_brokers_up"
    /// Weekly intake and return batches emitted (by the batch scheduler).
    public static let batchesEmitted = "baocuo_batches_emitted_total"
}

/// The router's swift-metrics instruments. Names follow Prometheus conventions; the CLI bootstraps
/// the Prometheus backend. Dimensioned counters are created once per label set and cached, because
/// creating one goes through the factory's registry lock.
final class RouterMetrics: Sendable {
    let consumed = Counter(label: PipelineMetricNames.recordsConsumed)
    let copies = Counter(label: PipelineMetricNames.routedCopies)
    let deliveryFailures = Counter(label: PipelineMetricNames.deliveryFailures)
    let commits = Counter(label: PipelineMetricNames.offsetCommits)
    let commitFailures = Counter(label: PipelineMetricNames.offsetCommitFailures)
    let produceLatency = Timer(label: PipelineMetricNames.produceLatency, preferredDisplayUnit: .seconds)
    private let routedCounters = Mutex<[RouteTally.RouteKey: Counter]>([:])
    private let rejectedCounters = Mutex<[RejectCode: Counter]>([:])

    func record(_ tally: RouteTally, consumed count: Int) {
        consumed.increment(by: count)
        if tally.copies > 0 { copies.increment(by: tally.copies) }
        for (key, count) in tally.routed {
            let counter = routedCounters.withLock { counters in
                if let existing = counters[key] { return existing }
                let made = Counter(label: PipelineMetricNames.recordsRouted,
                                   dimensions: [("category", key.category.rawValue), ("agency", key.owner)])
                counters[key] = made
                return made
            }
            counter.increment(by: count)
        }
        for (code, count) in tally.rejected {
            let counter = rejectedCounters.withLock { counters in
                if let existing = counters[code] { return existing }
                let made = Counter(label: PipelineMetricNames.recordsDeadLettered, dimensions: [("code", code.rawValue)])
                counters[code] = made
                return made
            }
            counter.increment(by: count)
        }
    }
}

/// Publishes librdkafka's consumer statistics as gauges — consumer lag per partition, broker
/// round-trip times, brokers up, rebalances — and tells the health check whether a broker is up.
/// The JSON arrives on the consumer's poll thread every `statistics.interval.ms`; it is parsed on a
/// queue of its own so that polling never waits for it.
final class StatisticsMetrics: Sendable {
    private let queue = DispatchQueue(label: "baocuo.kafka.statistics")
    private let onBrokerState: @Sendable (Bool) -> Void
    private let brokersUp = Gauge(label: PipelineMetricNames.brokersUp)
    private let rebalances = Counter(label: PipelineMetricNames.consumerRebalances)
    private struct State {
        var lag: [TopicPartition: Gauge] = [:]
        var rtt: [Int32: Gauge] = [:]
        var lastRebalanceCount: Int64 = 0
    }
    private let state = Mutex(State())

    /// `onBrokerState`: called after every statistics report with whether any broker connection is up.
    init(onBrokerState: @escaping @Sendable (Bool) -> Void) {
        self.onBrokerState = onBrokerState
    }

    /// The consumer's statistics handler.
    func submit(_ json: String) {
        queue.async { [self] in
            guard let statistics = KafkaStatistics(json: json) else { return }
            record(statistics)
        }
    }

    private func record(_ statistics: KafkaStatistics) {
        let upCount = statistics.brokers.filter(\.isUp).count
        brokersUp.record(upCount)
        state.withLock { state in
            for broker in statistics.brokers {
                guard let rtt = broker.rttAverageMicroseconds else { continue }
                let gauge = state.rtt[broker.nodeID] ?? Gauge(label: PipelineMetricNames.brokerRTT, dimensions: [("broker", String(broker.nodeID))])
                state.rtt[broker.nodeID] = gauge
                gauge.record(Double(rtt) / 1_000_000)
            }
            for partition in statistics.partitions {
                // A partition this client no longer fetches reports an unknown lag: show 0 rather than a
                // stale value, so that summing over the fleet counts each partition once.
                if let lag = partition.consumerLag {
                    let gauge = state.lag[partition.topicPartition] ?? Gauge(label: PipelineMetricNames.consumerLag, dimensions: [
                        ("topic", partition.topicPartition.topic), ("partition", String(partition.topicPartition.partition)),
                    ])
                    state.lag[partition.topicPartition] = gauge
                    gauge.record(lag)
                } else {
                    state.lag[partition.topicPartition]?.record(0)
                }
            }
            if let count = statistics.rebalanceCount, count > state.lastRebalanceCount {
                rebalances.increment(by: Int(count - state.lastRebalanceCount))
                state.lastRebalanceCount = count
            }
        }
        onBrokerState(upCount > 0)
    }
}
