import BaocuoDomain
import BaocuoKafka
import Dispatch
import Metrics
import Synchronization

/// The names of Baocuo's Prometheus metrics, for every component that records them and for the
/// runbook's alerts.
public enum PipelineMetricNames {
    /// Ingest records read by this worker.
    public static let recordsConsumed = "baocuo_records_consumed_total"
    /// Dimension `category`.
    public static let recordsRouted = "baocuo_records_routed_total"
    /// Dimension `agency` (the owner region). A separate family rather than a second dimension of
    /// `recordsRouted`: category × agency would be ~4,800 series per worker.
    public static let recordsRoutedByAgency = "baocuo_records_routed_by_agency_total"
    /// Owner, cc and ops copies written.
    public static let routedCopies = "baocuo_routed_copies_total"
    /// Dimension `code` (the reject code).
    public static let recordsDeadLettered = "baocuo_records_dead_lettered_total"
    /// Outputs the cluster refused for good (the worker stops).
    public static let deliveryFailures = "baocuo_delivery_failures_total"
    /// Successful offset commits of the router.
    public static let offsetCommits = "baocuo_offset_commits_total"
    /// Failed or timed-out offset commits of the router.
    public static let offsetCommitFailures = "baocuo_offset_commit_failures_total"
    /// A histogram: one sampled output per produced batch, from produce to the broker's acknowledgement.
    public static let produceLatency = "baocuo_produce_latency_seconds"
    /// A histogram: every input record, from its Kafka timestamp (ingest) to the acknowledgement of
    /// its first output (the owner copy, or its dead letter).
    public static let ingestToAcknowledged = "baocuo_ingest_to_ack_seconds"
    /// Bucket bounds of the latency histograms, fine around the 50 ms objective.
    public static let durationHistogramBuckets: [String: [Duration]] = {
        let bounds: [Duration] = [1, 2, 5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000, 10000, 30000]
            .map { .milliseconds($0) }
        return [produceLatency: bounds, ingestToAcknowledged: bounds]
    }()
    /// Dimensions `group`, `topic`, `partition`; from librdkafka statistics.
    public static let consumerLag = "baocuo_consumer_lag"
    /// Consumer group rebalances this worker took part in.
    public static let consumerRebalances = "baocuo_consumer_rebalances_total"
    /// Dimension `broker` (node id); librdkafka's windowed average round-trip time.
    public static let brokerRTT = "baocuo_kafka_broker_rtt_seconds"
    /// Broker connections up, from librdkafka statistics.
    public static let brokersUp = "baocuo_kafka_brokers_up"
    /// Dimension `kind`: weekly intake and return batches emitted by this worker's batch scheduler.
    public static let batchesEmitted = "baocuo_batches_emitted_total"
    /// Dimensions `week`, `kind`: batches due for the week (one per region or province), per due week
    /// of the look-back window.
    public static let weekBatchesExpected = "baocuo_week_batches_expected"
    /// Dimensions `week`, `kind`: of them, emitted (a marker exists).
    public static let weekBatchesEmitted = "baocuo_week_batches_emitted"
    /// Dimensions `week`, `kind`: 1 when the week's batches of that kind are past their due time plus
    /// the grace (`scheduler.deadlineGraceSeconds`) and not all emitted.
    public static let batchDeadlineMissed = "baocuo_batch_deadline_missed"
    /// Unix seconds of the batch scheduler's last successful tick.
    public static let schedulerLastTick = "baocuo_batch_scheduler_last_tick_seconds"
    /// Dimension `outcome` (`success`, `failure`): SIGHUP reloads of rules, regions and calendar.
    public static let reloads = "baocuo_reloads_total"
    /// Constant 1; dimensions `version`, `commit`, `librdkafka`.
    public static let buildInfo = "baocuo_build_info"
    /// Constant 1; dimension `rulesVersion` (classification.yaml's `version`), moved on reload.
    public static let rulesInfo = "baocuo_rules_info"
    /// Dimension `outcome` (`accepted`, `refused`, `after_window`): records of the deprecated shared
    /// resolutions topic, each counted when the batch scheduler first checks it.
    public static let sharedTopicResolutions = "baocuo_resolutions_shared_topic_total"
    /// End of the last year `calendar.csv` covers, in Unix seconds; cycles after it are provisional.
    public static let calendarCoveredUntil = "baocuo_calendar_covered_until_seconds"

    /// The `# HELP` text of every metric Baocuo exports (`HelpfulMetricsFactory` writes it).
    public static let help: [String: String] = [
        recordsConsumed: "Ingest records read by this worker.",
        recordsRouted: "Reports routed, by category.",
        recordsRoutedByAgency: "Reports routed, by owner region (agency).",
        routedCopies: "Owner, cc and ops copies written.",
        recordsDeadLettered: "Reports dead-lettered, by reject code.",
        deliveryFailures: "Outputs the cluster refused for good (the worker stops).",
        offsetCommits: "Successful offset commits of the router.",
        offsetCommitFailures: "Failed or timed-out offset commits of the router.",
        produceLatency: "One output per produced batch, from produce to the broker's acknowledgement.",
        ingestToAcknowledged: "Every input record, from its Kafka timestamp to the acknowledgement of its first output.",
        consumerLag: "Records behind the end of each assigned partition (librdkafka statistics; 0 once unassigned).",
        consumerRebalances: "Consumer group rebalances this worker took part in.",
        brokerRTT: "Average broker round-trip time (librdkafka statistics).",
        brokersUp: "Broker connections up (librdkafka statistics).",
        batchesEmitted: "Weekly batches emitted by this worker's batch scheduler, by kind.",
        weekBatchesExpected: "Batches due for the week and kind: one per region (intake) or province (return).",
        weekBatchesEmitted: "Batches of the week and kind emitted (a marker on the batches topic).",
        batchDeadlineMissed: "1 when the week's batches of this kind are not all emitted by their due time plus the grace.",
        schedulerLastTick: "Unix seconds of the batch scheduler's last successful tick.",
        sharedTopicResolutions: "Records of the deprecated shared resolutions topic, by outcome, counted once.",
        calendarCoveredUntil: "End of the last year calendar.csv covers (Unix seconds); cycles after it are provisional.",
        reloads: "SIGHUP reloads of rules, regions and calendar, by outcome.",
        buildInfo: "Constant 1, labelled with the running build: version, git commit, librdkafka version.",
        rulesInfo: "Constant 1, labelled with the classification rules version in use.",
    ]
}

/// The router's swift-metrics instruments. Names follow Prometheus conventions; the CLI bootstraps
/// the Prometheus backend. Dimensioned counters are created once per label set and cached, because
/// creating one goes through the factory's registry lock.
final class RouterMetrics: Sendable {
    let consumed: Counter
    let copies: Counter
    let deliveryFailures: Counter
    let commits: Counter
    let commitFailures: Counter
    let produceLatency: Timer
    let ingestToAcknowledged: Timer
    private let routedByCategory: DimensionedCounters<Category>
    private let routedByAgency: DimensionedCounters<String>
    private let deadLettered: DimensionedCounters<RejectCode>

    /// `factory`: the bootstrapped backend in the CLI; a private registry's in tests, so that workers
    /// of concurrent tests do not count into each other's figures.
    init(factory: any MetricsFactory = MetricsSystem.factory) {
        consumed = Counter(label: PipelineMetricNames.recordsConsumed, factory: factory)
        copies = Counter(label: PipelineMetricNames.routedCopies, factory: factory)
        deliveryFailures = Counter(label: PipelineMetricNames.deliveryFailures, factory: factory)
        commits = Counter(label: PipelineMetricNames.offsetCommits, factory: factory)
        commitFailures = Counter(label: PipelineMetricNames.offsetCommitFailures, factory: factory)
        produceLatency = Timer(label: PipelineMetricNames.produceLatency, preferredDisplayUnit: .seconds, factory: factory)
        ingestToAcknowledged = Timer(label: PipelineMetricNames.ingestToAcknowledged, preferredDisplayUnit: .seconds, factory: factory)
        routedByCategory = DimensionedCounters(
            label: PipelineMetricNames.recordsRouted, dimension: "category", factory: factory, name: \.rawValue)
        routedByAgency = DimensionedCounters(
            label: PipelineMetricNames.recordsRoutedByAgency, dimension: "agency", factory: factory, name: { $0 })
        deadLettered = DimensionedCounters(
            label: PipelineMetricNames.recordsDeadLettered, dimension: "code", factory: factory, name: \.rawValue)
    }

    func record(_ tally: RouteTally, consumed count: Int) {
        consumed.increment(by: count)
        if tally.copies > 0 { copies.increment(by: tally.copies) }
        routedByCategory.increment(tally.routedByCategory)
        routedByAgency.increment(tally.routedByOwner)
        deadLettered.increment(tally.rejected)
    }
}

/// Counters of one family with one dimension, created on first use and cached: creating one goes
/// through the Prometheus registry's lock and copies the family's label table.
final class DimensionedCounters<Value: Hashable & Sendable>: Sendable {
    private let label: String
    private let dimension: String
    private let factory: any MetricsFactory
    private let name: @Sendable (Value) -> String
    private let counters = Mutex<[Value: Counter]>([:])

    init(label: String, dimension: String, factory: any MetricsFactory, name: @escaping @Sendable (Value) -> String) {
        self.label = label
        self.dimension = dimension
        self.factory = factory
        self.name = name
    }

    func increment(_ counts: [Value: Int]) {
        for (value, count) in counts {
            let counter = counters.withLock { counters in
                if let existing = counters[value] { return existing }
                let made = Counter(label: label, dimensions: [(dimension, name(value))], factory: factory)
                counters[value] = made
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
    private let factory: any MetricsFactory
    /// The consumer group, a dimension of the lag: workers of two groups report separate series.
    private let group: String
    private let brokersUp: Gauge
    private let rebalances: Counter
    private struct State {
        var lag: [TopicPartition: Gauge] = [:]
        var rtt: [Int32: Gauge] = [:]
        var lastRebalanceCount: Int64 = 0
    }
    private let state = Mutex(State())

    /// `onBrokerState`: called after every statistics report with whether any broker connection is up.
    init(factory: any MetricsFactory, group: String, onBrokerState: @escaping @Sendable (Bool) -> Void) {
        self.group = group
        self.onBrokerState = onBrokerState
        self.factory = factory
        brokersUp = Gauge(label: PipelineMetricNames.brokersUp, factory: factory)
        rebalances = Counter(label: PipelineMetricNames.consumerRebalances, factory: factory)
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
                let gauge =
                    state.rtt[broker.nodeID]
                    ?? Gauge(label: PipelineMetricNames.brokerRTT, dimensions: [("broker", String(broker.nodeID))], factory: factory)
                state.rtt[broker.nodeID] = gauge
                gauge.record(Double(rtt) / 1_000_000)
            }
            for partition in statistics.partitions {
                // A partition this client no longer fetches reports an unknown lag: show 0 rather than a
                // stale value, so that summing over the fleet counts each partition once.
                if let lag = partition.consumerLag {
                    let gauge =
                        state.lag[partition.topicPartition]
                        ?? Gauge(
                            label: PipelineMetricNames.consumerLag,
                            dimensions: [
                                ("group", group), ("topic", partition.topicPartition.topic),
                                ("partition", String(partition.topicPartition.partition)),
                            ], factory: factory)
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
