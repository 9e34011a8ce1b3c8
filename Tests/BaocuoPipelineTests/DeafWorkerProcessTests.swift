import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 32: a `baocuo run` started against a large backlog must serve `/health/live` and stop on
/// SIGTERM like any other. Each run starts a worker in a fresh group (so it faces the whole
/// backlog) with the weekly scheduler on and a busy process competing for the CPU, then checks the
/// endpoint within `liveBound` and the exit within the contract's 10 s of SIGTERM. After each, a
/// second worker is started with its HTTP port already taken (the trigger of the issue): it must
/// log why and exit non-zero, not route on deaf.
///
/// Knobs (environment): `BAOCUO_DEAF_RUNS` (runs, default 3), `BAOCUO_DEAF_REPORTS` (backlog,
/// default 100,000), `BAOCUO_DEAF_BUSY` (busy-loop processes, default 1), `BAOCUO_DEAF_SCHEDULER=off`
/// (`--no-scheduler`), `BAOCUO_TEST_EXECUTABLE` (another `baocuo`, e.g. a release build). The closing note of
/// issue 32 ran it with `BAOCUO_DEAF_RUNS=50`.
@Suite(.serialized)
struct DeafWorkerProcessTests {
    static let environment = ProcessInfo.processInfo.environment
    static let runs = Int(environment["BAOCUO_DEAF_RUNS"] ?? "") ?? 3
    static let reports = Int(environment["BAOCUO_DEAF_REPORTS"] ?? "") ?? 100_000
    static let busyProcesses = Int(environment["BAOCUO_DEAF_BUSY"] ?? "") ?? 1
    static let scheduler = environment["BAOCUO_DEAF_SCHEDULER"] != "off"
    static let inputPartitions = 32
    /// Generous: a healthy worker listens well under a second after start, even on two busy cores.
    static let liveBound: Duration = .seconds(20)
    static let stopBound: Duration = .seconds(10)

    struct Outcome: CustomStringConvertible {
        var run: Int
        var portTaken = false
        var liveAfter: Duration?
        var exitStatus: Int32?
        var stopAfter: Duration?
        /// Port taken: the log says why the worker cannot start.
        var explained = false
        var note = ""
        var failed: Bool {
            portTaken ? exitStatus == nil || exitStatus == 0 || !explained : liveAfter == nil || exitStatus != 0
        }
        var description: String {
            "run \(run)\(portTaken ? " (port taken)" : ""): live \(liveAfter.map { "\($0)" } ?? "never") exit \(exitStatus.map(String.init) ?? "none")"
                + " after \(stopAfter.map { "\($0)" } ?? "-")\(note.isEmpty ? "" : " (\(note))")"
        }
    }

    @Test func workersStartedAgainstABacklogServeHealthAndStopOnSigterm() async throws {
        let names = TopicNames(prefix: TestConfiguration.shared.settings.topicPrefix)
        let cluster = try ChildProcess(
            ["dev-cluster", "--brokers", "3", "--input-partitions", "\(Self.inputPartitions)"], name: "deaf-cluster")
        defer { cluster.signal(SIGTERM) }
        let brokers = try #require(cluster.firstLine(), "dev-cluster printed no bootstrap list: \(cluster.log)")
        let lines = SampleReports.generate(count: Self.reports, tag: "-deaf")
        try await SampleReports.load(lines, topic: names.failures, brokers: brokers)

        // CPU pressure: the mock cluster, the worker and these share the machine's cores.
        let busy = try (0..<Self.busyProcesses).map { _ in
            try BusyProcess()
        }
        defer { for process in busy { process.stop() } }

        var outcomes: [Outcome] = []
        for run in 1...Self.runs {
            outcomes.append(try await oneRun(run, brokers: brokers))
            print("deaf-worker: \(outcomes.last!)")
            // The trigger found for issue 32: the HTTP port already taken (another worker, or one of
            // the ephemeral ports the Kafka clients and the mock's brokers use). Such a worker must
            // say so and exit, not route on without an endpoint, deaf to SIGTERM.
            let taken = try TakenPort()
            defer { taken.close() }
            outcomes.append(try await oneRun(run, brokers: brokers, takenPort: taken.port))
            print("deaf-worker: \(outcomes.last!)")
        }
        let failed = outcomes.filter(\.failed)
        print("deaf-worker: \(Self.runs) runs, \(failed.count) failed (backlog \(Self.reports), busy \(Self.busyProcesses))")
        #expect(failed.isEmpty, "\(failed)")
    }

    private func oneRun(_ run: Int, brokers: String, takenPort: Int? = nil) async throws -> Outcome {
        let worker = try ChildProcess(
            ["run", "--brokers", brokers, "--group", "deaf-\(run)-\(UUID().uuidString.prefix(6))", "--http-port", "\(takenPort ?? 0)"]
                + (Self.scheduler ? ["--scheduler-tick-seconds", "1"] : ["--no-scheduler"]),
            environment: [
                "BAOCUO_KAFKA_PROPERTY_SESSION_TIMEOUT_MS": "6000",
                "BAOCUO_KAFKA_PROPERTY_HEARTBEAT_INTERVAL_MS": "500",
                "BAOCUO_LOGGING_LEVEL": "info",
            ],
            name: "deaf-worker-\(run)"
        )
        var outcome = Outcome(run: run, portTaken: takenPort != nil)
        let started = ContinuousClock.now
        if takenPort != nil {
            // Expected: the reason logged and a prompt non-zero exit. Still running after the bound,
            // it gets the SIGTERM every worker must obey.
            outcome.exitStatus = await worker.waitForExit(timeout: Self.liveBound)
            if outcome.exitStatus == nil {
                await stop(worker, &outcome)
            } else {
                outcome.stopAfter = ContinuousClock.now - started
            }
            outcome.explained = worker.log.contains("cannot listen on")
            return await finish(worker, outcome)
        }
        let deadline = started + Self.liveBound
        while ContinuousClock.now < deadline, worker.process.isRunning {
            if let port = Self.listeningPort(in: worker.log),
                let response = try? await HTTPGet.fetch(port: port, path: "/health/live"), response.status == 200
            {
                outcome.liveAfter = ContinuousClock.now - started
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        // Mid-backlog: the worker holds partitions and is routing when the signal arrives.
        await worker.waitForLog("partitions assigned", timeout: .seconds(30))
        try await Task.sleep(for: .seconds(2))
        await stop(worker, &outcome)
        return await finish(worker, outcome)
    }

    /// SIGTERM, and the exit within the contract's bound.
    private func stop(_ worker: ChildProcess, _ outcome: inout Outcome) async {
        let signalled = ContinuousClock.now
        worker.signal(SIGTERM)
        outcome.exitStatus = await worker.waitForExit(timeout: Self.stopBound)
        if outcome.exitStatus != nil { outcome.stopAfter = ContinuousClock.now - signalled }
    }

    /// A failed run keeps its stacks (when still running) and its log's path; the process is killed.
    private func finish(_ worker: ChildProcess, _ outcome: Outcome) async -> Outcome {
        var outcome = outcome
        if outcome.failed, worker.process.isRunning {
            outcome.note = "stacks in \(Self.dumpStacks(pid: worker.process.processIdentifier, log: worker.logPath))"
            worker.signal(SIGKILL)
            _ = await worker.waitForExit(timeout: .seconds(5))
        }
        if outcome.failed { outcome.note += "; log \(worker.logPath)" }
        return outcome
    }

    /// The port of the worker's "observability endpoint listening address=HOST:PORT" line.
    static func listeningPort(in log: String) -> Int? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("observability endpoint listening") }),
            let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
            let port = address.split(separator: ":").last
        else { return nil }
        return Int(port)
    }

    /// Every thread's stack of a hung worker (gdb, when installed), next to its log.
    static func dumpStacks(pid: Int32, log: String) -> String {
        let path = log + ".stacks"
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") else { return "(no gdb)" }
        let gdb = Process()
        gdb.executableURL = URL(fileURLWithPath: "/usr/bin/gdb")
        gdb.arguments = ["-p", "\(pid)", "-batch", "-ex", "thread apply all bt 30"]
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        gdb.standardOutput = FileHandle(forWritingAtPath: path)
        gdb.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do {
            try gdb.run()
            gdb.waitUntilExit()
        } catch {
            return "(gdb: \(error))"
        }
        return path
    }
}

/// A process spinning on one core until stopped.
final class BusyProcess: @unchecked Sendable {
    private let process = Process()

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "while :; do :; done"]
        try process.run()
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}

/// A TCP port bound on every address and listening, as another process holding the port would.
final class TakenPort {
    let port: Int
    private var fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = INADDR_ANY
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            _ = Glibc.close(fd)
            throw HTTPGet.Failure(description: "could not take a port: errno \(errno)")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}
