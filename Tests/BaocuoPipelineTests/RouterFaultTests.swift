import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Testing

/// Faults injected through the mock cluster's API while a router works: the worker recovers from
/// retriable ones by itself with nothing lost, and stops loudly on a permanent one.
@Suite(.serialized)
struct RouterFaultTests {
    let harness = RouterHarness()
    var names: TopicNames { harness.names }
    static let reports = 2_000

    /// Loads reports, starts one worker, injects `fault` once routing is under way, and checks the ledger.
    /// Reports the scenario for the reliability table.
    func routeThroughFault(
        _ scenario: String, injected: String, group: String,
        fault: @escaping @Sendable (MockCluster) async throws -> Void
    ) async throws -> Ledger.Result {
        let cluster = try harness.makeCluster(inputPartitions: 4)
        defer { cluster.close() }
        try await SampleReports.load(SampleReports.generate(count: Self.reports), topic: names.failures, brokers: cluster.bootstrapServers)
        let worker = harness.makeWorker(cluster: cluster, group: group, properties: ["message.timeout.ms": "60000"])
        let recovery = try await harness.route(cluster: cluster, workers: [worker], group: group, inputPartitions: 4) {
            try await fault(cluster)
        }
        let result = try await harness.ledger(cluster: cluster, group: group)
        FleetReport.record(scenario, result, injected: injected, recoverySeconds: recovery)
        return result
    }

    @Test func aBrokerDownForAWhileLosesNothing() async throws {
        let result = try await routeThroughFault(
            "broker down and back", injected: "broker 2 (a partition leader) down for 3 s", group: "fault-broker-down"
        ) { cluster in
            try await Task.sleep(for: .milliseconds(300))
            try cluster.setBrokerDown(2)
            try await Task.sleep(for: .seconds(3))
            try cluster.setBrokerUp(2)
        }
        #expect(result.inputs == Self.reports)
        #expect(result.hasNoLoss, "\(result)")
    }

    @Test func retriableProduceErrorsAreRetriedWithoutLoss() async throws {
        let result = try await routeThroughFault(
            "retriable produce errors", injected: "15 Produce errors: NOT_LEADER, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS",
            group: "fault-produce"
        ) { cluster in
            try cluster.pushRequestErrors(
                .produce,
                Array(repeating: .notLeaderForPartition, count: 5)
                    + Array(repeating: .requestTimedOut, count: 5) + Array(repeating: .notEnoughReplicas, count: 5))
        }
        #expect(result.hasNoLoss, "\(result)")
        #expect(result.duplicated == 0, "the idempotent producer retries without duplicates: \(result)")
    }

    @Test func retriableCommitErrorsAreRetriedWithoutLoss() async throws {
        let result = try await routeThroughFault(
            "retriable commit errors", injected: "6 OffsetCommit errors: REQUEST_TIMED_OUT, COORDINATOR_NOT_AVAILABLE",
            group: "fault-commit"
        ) { cluster in
            try cluster.pushRequestErrors(
                .offsetCommit,
                Array(repeating: .requestTimedOut, count: 3)
                    + Array(repeating: .coordinatorNotAvailable, count: 3))
        }
        #expect(result.isExact, "\(result)")
    }

    @Test func aPermanentProduceErrorStopsTheWorkerWithoutSkipping() async throws {
        let cluster = try harness.makeCluster(inputPartitions: 1)
        defer { cluster.close() }
        let group = "fault-permanent"
        try await SampleReports.load(SampleReports.generate(count: 200), topic: names.failures, brokers: cluster.bootstrapServers)
        try cluster.pushRequestErrors(.produce, Array(repeating: .topicAuthorizationFailed, count: 50))
        let worker = harness.makeWorker(cluster: cluster, group: group)
        // The error surfaces either in a delivery report or, once librdkafka marks the topic, from
        // produce itself: either way the worker stops with it.
        let error = await #expect(throws: (any Error).self, "a permanent delivery error must stop the worker") {
            try await worker.run()
        }
        #expect(String(describing: error).contains("TOPIC_AUTHORIZATION_FAILED"), "\(String(describing: error))")
        // Nothing past the failed record was committed: a fresh worker, with the fault gone, routes
        // everything, and together with whatever was delivered before, nothing is lost.
        try cluster.clearRequestErrors(.produce)
        let recovery = try await harness.route(
            cluster: cluster, workers: [harness.makeWorker(cluster: cluster, group: group)], group: group, inputPartitions: 1)
        let result = try await harness.ledger(cluster: cluster, group: group)
        #expect(result.hasNoLoss, "\(result)")
        FleetReport.record(
            "fatal produce error", result,
            injected: "50 Produce errors TOPIC_AUTHORIZATION_FAILED: the worker stops; a fresh worker after the fix",
            recoverySeconds: recovery)
    }

    @Test func aSlowBrokerSlowsButLosesNothing() async throws {
        let result = try await routeThroughFault("slow broker", injected: "RTT 100 ms on every broker for 3 s", group: "fault-rtt") {
            cluster in
            for broker in cluster.brokerIDs { try cluster.setBrokerRTT(broker, milliseconds: 100) }
            try await Task.sleep(for: .seconds(3))
            for broker in cluster.brokerIDs { try cluster.setBrokerRTT(broker, milliseconds: 0) }
        }
        #expect(result.isExact, "\(result)")
    }

    @Test func theGroupCoordinatorDownAndBackLosesNothing() async throws {
        let result = try await routeThroughFault(
            "coordinator down and back", injected: "the group coordinator's broker down for 3 s",
            group: "fault-coordinator"
        ) { cluster in
            try cluster.setCoordinator(group: "fault-coordinator", broker: 1)
            try await Task.sleep(for: .milliseconds(300))
            try cluster.setBrokerDown(1)
            try await Task.sleep(for: .seconds(3))
            try cluster.setBrokerUp(1)
        }
        #expect(result.hasNoLoss, "\(result)")
    }
}
