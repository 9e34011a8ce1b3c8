import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Testing

/// Runs router workers in this process against a mock cluster with the contract topics.
struct RouterHarness {
    /// The rules and topic prefix of the workers (the checkout's `Config/` unless given).
    var configuration = TestConfiguration.shared
    var names: TopicNames { TopicNames(prefix: configuration.settings.topicPrefix) }

    /// A cluster with the contract topics.
    func makeCluster(inputPartitions: Int = 4) throws -> MockCluster {
        let cluster = try MockCluster(brokers: 3, logger: TestLogging.logger)
        let layout = TopicLayout(names: names, regions: configuration.regions, inputPartitions: inputPartitions)
        try cluster.createTopics(layout.topics.map { ($0.name, $0.partitions) }, replicationFactor: 3)
        return cluster
    }

    func makeWorker(cluster: MockCluster, group: String, properties: [String: String] = [:]) -> RouterWorker {
        var kafka = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        kafka.merge(properties) { _, new in new }
        return RouterWorker(
            options: RouterOptions(
                brokers: cluster.bootstrapServers, group: group, pollBatchSize: 500,
                commitInterval: .milliseconds(200), kafkaProperties: kafka),
            rules: RouterRules(RecordRouter(configuration: configuration, group: group)),
            logger: TestLogging.logger
        )
    }

    /// Runs `workers` until the group has committed the whole input, then stops them.
    /// Returns the seconds from the end of `whileRunning` until the group had committed everything.
    @discardableResult
    func route(
        cluster: MockCluster, workers: [RouterWorker], group: String, inputPartitions: Int,
        whileRunning: @Sendable () async throws -> Void = {}
    ) async throws -> Double {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for worker in workers { tasks.addTask { try await worker.run() } }
            try await whileRunning()
            let faultEnded = ContinuousClock.now
            let progress = try await GroupProgress.waitUntilCaughtUp(
                group: group, topic: names.failures, partitions: inputPartitions, brokers: cluster.bootstrapServers,
                logger: TestLogging.logger, timeout: .seconds(90)
            )
            let recovery = ContinuousClock.now - faultEnded
            for worker in workers { worker.requestStop() }
            try await tasks.waitForAll()
            #expect(progress.lag == 0, "the group did not commit the whole input: \(progress)")
            return Double(recovery.components.seconds) + Double(recovery.components.attoseconds) / 1e18
        }
    }

    func ledger(cluster: MockCluster, group: String) async throws -> Ledger.Result {
        let reader = TopicReader(brokers: cluster.bootstrapServers, logger: TestLogging.logger)
        let inputs = try await reader.readAll(reader.topics { $0 == names.failures })
        let outputs = try await reader.readAll(
            reader.topics { name in
                name.hasSuffix(".inbox") || name == names.ops || name == names.failuresDLQ
            })
        return Ledger(router: RecordRouter(configuration: configuration, group: group)).check(inputs: inputs, outputs: outputs)
    }
}
