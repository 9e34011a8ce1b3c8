import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The fleet as separate processes: `baocuo dev-cluster` and several `baocuo run` in one group.
@Suite(.serialized)
struct FleetProcessTests {
    let configuration = TestConfiguration.shared
    var names: TopicNames { TopicNames(prefix: configuration.settings.topicPrefix) }
    static let inputPartitions = 16

    /// Short sessions: the mock makes a member joining a stable group wait session.timeout.ms − 1 s.
    static let workerEnvironment = [
        "BAOCUO_KAFKA_PROPERTY_SESSION_TIMEOUT_MS": "6000",
        "BAOCUO_KAFKA_PROPERTY_HEARTBEAT_INTERVAL_MS": "500",
        "BAOCUO_LOGGING_LEVEL": "info",
    ]

    func startWorker(brokers: String, group: String, name: String) throws -> ChildProcess {
        try ChildProcess(["run", "--brokers", brokers, "--group", group, "--http-port", "0"],
                         environment: Self.workerEnvironment, name: name)
    }

    @Test func sigkilledAndRestartedWorkersLoseNothing() async throws {
        let cluster = try ChildProcess(["dev-cluster", "--brokers", "3", "--input-partitions", "\(Self.inputPartitions)"], name: "dev-cluster")
        defer { cluster.signal(SIGTERM) }
        let brokers = try #require(cluster.firstLine(), "dev-cluster printed no bootstrap list: \(cluster.log)")
        let lines = SampleReports.generate(count: 20_000)
        try await SampleReports.load(lines, topic: names.failures, brokers: brokers)

        let group = "fleet-kill"
        var workers = try (0..<3).map { try startWorker(brokers: brokers, group: group, name: "worker-\($0)") }
        // Kill one worker mid-stream, once routing is under way.
        try await waitForCommitted(atLeast: 2_000, group: group, brokers: brokers)
        workers[0].signal(SIGKILL)
        #expect(await workers[0].waitForExit(timeout: .seconds(5)) != nil)
        workers[0] = try startWorker(brokers: brokers, group: group, name: "worker-restarted")

        let progress = try await GroupProgress.waitUntilCaughtUp(
            group: group, topic: names.failures, partitions: Self.inputPartitions, brokers: brokers,
            logger: TestLogging.logger, timeout: .seconds(180)
        )
        #expect(progress.lag == 0, "fleet did not finish: \(progress)")

        // Graceful stop: every survivor exits 0 within the contract's 10 seconds.
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers {
            let status = await worker.waitForExit(timeout: .seconds(10))
            #expect(status == 0, "worker did not stop cleanly in 10 s (status \(String(describing: status))): \(worker.log.suffix(2000))")
        }

        let reader = TopicReader(brokers: brokers, logger: TestLogging.logger)
        let inputs = try await reader.readAll(reader.topics { $0 == names.failures })
        let outputs = try await reader.readAll(reader.topics { $0.hasSuffix(".inbox") || $0 == names.ops || $0 == names.failuresDLQ })
        let result = Ledger(router: RecordRouter(configuration: configuration, group: group)).check(inputs: inputs, outputs: outputs)
        #expect(result.inputs == 20_000)
        #expect(result.hasNoLoss, "\(result)")
        // At-least-once: a SIGKILL repeats at most what the killed worker had consumed but not committed:
        // its in-flight window plus one commit interval of records.
        #expect(result.duplicated <= 20_000 / 3, "\(result)")
        FleetReport.record("sigkill+restart, 3 workers, 20000 reports", result)
    }

    func waitForCommitted(atLeast target: Int64, group: String, brokers: String) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            let progress = try await GroupProgress.read(group: group, topic: names.failures, partitions: Self.inputPartitions,
                                                         brokers: brokers, logger: TestLogging.logger)
            if progress.committed >= target { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the fleet never committed \(target) records")
    }
}

/// Prints a scenario's ledger for the reliability table.
enum FleetReport {
    static func record(_ scenario: String, _ result: Ledger.Result) {
        print("ledger: \(scenario): \(result)")
    }
}
