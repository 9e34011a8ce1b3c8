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
    /// With the rebalance strategy this run measures (`FleetReport.strategyEnvironment`).
    static let workerEnvironment = [
        "BAOCUO_KAFKA_PROPERTY_SESSION_TIMEOUT_MS": "6000",
        "BAOCUO_KAFKA_PROPERTY_HEARTBEAT_INTERVAL_MS": "500",
        "BAOCUO_LOGGING_LEVEL": "info",
    ].merging(FleetReport.strategyEnvironment) { _, chosen in chosen }

    func startWorker(brokers: String, group: String, name: String) throws -> ChildProcess {
        try ChildProcess(
            ["run", "--brokers", brokers, "--group", group, "--http-port", "0"],
            environment: Self.workerEnvironment, name: name)
    }

    /// A dev cluster, `reports` loaded, and the ledger checked after `scenario` drove the fleet to
    /// the end of the input. `scenario` starts workers, kills them, restarts them; it returns the
    /// workers still running, which are then stopped with SIGTERM and must exit 0 within 10 s.
    /// `groupChanges`: members joining after the first one, plus members killed or stopped mid-stream.
    func fleetScenario(
        _ name: String, injected: String, reports: Int, group: String, groupChanges: Int,
        scenario: (_ brokers: String) async throws -> [ChildProcess]
    ) async throws {
        let cluster = try ChildProcess(
            ["dev-cluster", "--brokers", "3", "--input-partitions", "\(Self.inputPartitions)"], name: "dev-cluster")
        defer { cluster.signal(SIGTERM) }
        let brokers = try #require(cluster.firstLine(), "dev-cluster printed no bootstrap list: \(cluster.log)")
        // Reports arrive while the scenario runs (500 every 250 ms), so kills and rebalances land
        // mid-stream however fast the fleet is.
        let lines = SampleReports.generate(count: reports)
        let topic = names.failures
        let loading = Task {
            for (index, chunk) in stride(from: 0, to: lines.count, by: 500).enumerated() {
                try await SampleReports.load(
                    Array(lines[chunk..<min(chunk + 500, lines.count)]), topic: topic, brokers: brokers,
                    baseMs: 1_795_000_000_000 + Int64(chunk))
                if index > 0 { try await Task.sleep(for: .milliseconds(250)) }
            }
        }
        let workers = try await scenario(brokers)
        try await loading.value
        let lastAction = ContinuousClock.now
        let progress = try await GroupProgress.waitUntilCaughtUp(
            group: group, topic: names.failures, partitions: Self.inputPartitions, brokers: brokers,
            logger: TestLogging.logger, timeout: .seconds(180)
        )
        let recovery = ContinuousClock.now - lastAction
        #expect(progress.lag == 0, "fleet did not finish: \(progress)")

        // A worker that has not yet installed its signal handlers would die of SIGTERM's default
        // action; the contract's clean stop is for a running worker.
        for worker in workers { await worker.waitForLog("router starting", timeout: .seconds(20)) }
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers {
            let status = await worker.waitForExit(timeout: .seconds(10))
            #expect(status == 0, "worker did not stop cleanly in 10 s (status \(String(describing: status))): \(worker.log.suffix(2000))")
        }

        let reader = TopicReader(brokers: brokers, logger: TestLogging.logger)
        let inputs = try await reader.readAll(reader.topics { $0 == names.failures })
        let outputs = try await reader.readAll(reader.topics { $0.hasSuffix(".inbox") || $0 == names.ops || $0 == names.failuresDLQ })
        let result = Ledger(router: RecordRouter(configuration: configuration, group: group)).check(inputs: inputs, outputs: outputs)
        #expect(result.inputs == reports)
        #expect(result.hasNoLoss, "\(result)")
        // At-least-once: a SIGKILL repeats what the killed worker had consumed but not committed.
        // Each group change (a member killed, started or stopped) rebalances the group, and the
        // 2.0.2 mock refuses every commit from the moment it starts the join phase, including the
        // revoking member's final one (Apache Kafka accepts them): what the members routed since
        // their last commit before it is routed again by the next owners. In a backlog — the
        // records that arrived while the group was re-forming — that is up to a second of the
        // fleet's full rate, so the bound is half the input per group change, not a window size.
        #expect(result.duplicated <= reports / 2 * groupChanges, "\(result)")
        FleetReport.record(
            name, result, injected: injected,
            recoverySeconds: Double(recovery.components.seconds) + Double(recovery.components.attoseconds) / 1e18)
    }

    @Test func sigkilledAndRestartedWorkersLoseNothing() async throws {
        let group = "fleet-kill"
        try await fleetScenario(
            "worker SIGKILL and restart", injected: "3 processes; one SIGKILLed after 2,000 commits, one started",
            reports: 20_000, group: group, groupChanges: 4
        ) { brokers in
            var workers = try (0..<3).map { try startWorker(brokers: brokers, group: group, name: "worker-\($0)") }
            try await waitForCommitted(atLeast: 2_000, group: group, brokers: brokers)
            workers[0].signal(SIGKILL)
            #expect(await workers[0].waitForExit(timeout: .seconds(5)) != nil)
            workers[0] = try startWorker(brokers: brokers, group: group, name: "worker-restarted")
            return workers
        }
    }

    @Test(arguments: [7, 42, 1234] as [UInt64])
    func sigkillAtARandomPointLosesNothing(seed: UInt64) async throws {
        var random = TestRandom(seed: seed)
        let killAfter = Int64(500 + random.next() % 8_000)
        let group = "fleet-random-\(seed)"
        try await fleetScenario(
            "SIGKILL at a random point (seed \(seed))", injected: "2 processes; one SIGKILLed after \(killAfter) commits, then restarted",
            reports: 10_000, group: group, groupChanges: 3
        ) { brokers in
            var workers = try (0..<2).map { try startWorker(brokers: brokers, group: group, name: "worker-\(seed)-\($0)") }
            try await waitForCommitted(atLeast: killAfter, group: group, brokers: brokers)
            let victim = Int(random.next() % 2)
            workers[victim].signal(SIGKILL)
            _ = await workers[victim].waitForExit(timeout: .seconds(5))
            workers[victim] = try startWorker(brokers: brokers, group: group, name: "worker-\(seed)-restarted")
            return workers
        }
    }

    /// Scaling out from 2 to 3 workers mid-stream: the rebalance row that shows what incremental
    /// rebalancing changes. Eager (librdkafka 2.0.2): every member gives up every partition and the
    /// mock refuses the commits on revoke, so the fleet repeats what it routed since its last
    /// commit. Cooperative-sticky (the default from 2.4): only the partitions that move to the new
    /// worker are revoked; the others keep flowing.
    @Test func scalingOutFromTwoToThreeWorkersLosesNothing() async throws {
        let group = "fleet-scale-out"
        try await fleetScenario(
            "scale-out 2 → 3 workers",
            injected: "2 processes; a third started after 2,000 commits",
            reports: 10_000, group: group, groupChanges: 2
        ) { brokers in
            var workers = try (0..<2).map { try startWorker(brokers: brokers, group: group, name: "scale-\($0)") }
            try await waitForCommitted(atLeast: 2_000, group: group, brokers: brokers)
            workers.append(try startWorker(brokers: brokers, group: group, name: "scale-2"))
            return workers
        }
    }

    @Test func aRebalanceStormLosesNothing() async throws {
        let group = "fleet-storm"
        try await fleetScenario(
            "rebalance storm", injected: "a worker joins or leaves (SIGTERM) every 2 s, 8 times",
            reports: 20_000, group: group, groupChanges: 8
        ) { brokers in
            var workers = [try startWorker(brokers: brokers, group: group, name: "storm-0")]
            for step in 1...8 {
                try await Task.sleep(for: .seconds(2))
                if step % 3 == 0, workers.count > 1 {
                    let leaving = workers.removeFirst()
                    leaving.signal(SIGTERM)
                    let status = await leaving.waitForExit(timeout: .seconds(10))
                    #expect(status == 0, "a leaving worker exits 0: \(leaving.log.suffix(1500))")
                } else {
                    workers.append(try startWorker(brokers: brokers, group: group, name: "storm-\(step)"))
                }
            }
            return workers
        }
    }

    @Test func theWholeFleetKilledAndRestartedLosesNothing() async throws {
        let group = "fleet-restart"
        try await fleetScenario(
            "whole fleet SIGKILL and restart", injected: "both processes SIGKILLed mid-stream; a new fleet (in-memory state only) starts",
            reports: 10_000, group: group, groupChanges: 4
        ) { brokers in
            let first = try (0..<2).map { try startWorker(brokers: brokers, group: group, name: "fleet-a\($0)") }
            try await waitForCommitted(atLeast: 3_000, group: group, brokers: brokers)
            for worker in first { worker.signal(SIGKILL) }
            for worker in first { _ = await worker.waitForExit(timeout: .seconds(5)) }
            return try (0..<2).map { try startWorker(brokers: brokers, group: group, name: "fleet-b\($0)") }
        }
    }

    func waitForCommitted(atLeast target: Int64, group: String, brokers: String) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            let progress = try await GroupProgress.read(
                group: group, topic: names.failures, partitions: Self.inputPartitions,
                brokers: brokers, logger: TestLogging.logger)
            if progress.committed >= target { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the fleet never committed \(target) records")
    }
}

/// Prints a scenario's ledger, and appends it to `$BAOCUO_RELIABILITY_REPORT` (JSON lines) when
/// set: `scripts/reliability.sh` turns those lines into the table of docs/RELIABILITY.md.
enum FleetReport {
    /// The workers' rebalance protocol in this run: their default for the loaded library, unless the
    /// environment chooses a strategy.
    static var rebalanceProtocol: String {
        let strategy = ProcessInfo.processInfo.environment[strategyVariable] ?? RebalanceProtocol.defaultRouterStrategy
        return strategy.contains("cooperative") ? "incremental" : "eager"
    }

    static let strategyVariable = "BAOCUO_KAFKA_PROPERTY_PARTITION_ASSIGNMENT_STRATEGY"

    /// The rebalance strategy chosen for this run (scripts/reliability.sh's eager column), for the
    /// workers' environment: a child process gets none of the test process's BAOCUO_* variables.
    static var strategyEnvironment: [String: String] {
        ProcessInfo.processInfo.environment[strategyVariable].map { [strategyVariable: $0] } ?? [:]
    }

    static func record(_ scenario: String, _ result: Ledger.Result, injected: String = "", recoverySeconds: Double? = nil) {
        print("ledger: \(scenario) (librdkafka \(librdkafkaVersion), \(rebalanceProtocol) rebalancing): \(result)")
        guard let path = ProcessInfo.processInfo.environment["BAOCUO_RELIABILITY_REPORT"] else { return }
        let row: [String: Any] = [
            "scenario": scenario, "injected": injected, "inputs": result.inputs, "ownerCopies": result.ownerCopies,
            "deadLetters": result.deadLetters, "lost": result.lost + result.missingCopies + result.misrouted,
            "duplicated": result.duplicated, "recoverySeconds": recoverySeconds ?? -1,
            "library": librdkafkaVersion, "rebalance": rebalanceProtocol,
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]),
            let handle = FileHandle(forWritingAtPath: path)
                ?? {
                    _ = FileManager.default.createFile(atPath: path, contents: nil)
                    return FileHandle(forWritingAtPath: path)
                }()
        else { return }
        handle.seekToEndOfFile()
        handle.write(data + Data("\n".utf8))
        handle.closeFile()
    }
}
