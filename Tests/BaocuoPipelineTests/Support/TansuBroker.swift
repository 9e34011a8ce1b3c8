import BaocuoKafka
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The tansu broker (an independent Kafka-protocol broker, `tansu broker`, memory storage) as a
/// child process on 127.0.0.1, started and stopped by a test like the mock cluster.
///
/// The binary: `$BAOCUO_TANSU`, else `.build/tansu/tansu` (scripts/second-library.sh puts it there).
final class TansuBroker: @unchecked Sendable {
    /// librdkafka 2.0.2 cannot talk to tansu (it mis-parses KIP-482 tagged fields); 2.4 is the
    /// oldest release tansu documents clients for.
    static let minimumLibrary: Int32 = 0x0204_0000
    static var libraryCanTalkToIt: Bool { librdkafkaVersionNumber >= minimumLibrary }
    static let skipReason = "tansu needs librdkafka ≥ 2.4; this run loaded \(librdkafkaVersion) (scripts/test.sh runs this suite on 2.16)"

    /// The suite runs on a library that can talk to tansu, and whenever `$BAOCUO_TANSU` is set: a
    /// run that asks for tansu on a library that cannot talk to it fails (``Scope``) rather than
    /// skipping.
    static var suiteRuns: Bool { libraryCanTalkToIt || ProcessInfo.processInfo.environment["BAOCUO_TANSU"] != nil }

    /// The broker of the running suite, set by ``Scope``.
    @TaskLocal static var current: TansuBroker?

    /// One broker for every test of a suite: tansu holds each group's first JoinGroup ~20 s, and a
    /// broker per test would add its start-up on top. The tests keep apart by topic prefix and group.
    struct Scope: SuiteTrait, TestScoping {
        var isRecursive: Bool { false }

        func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
            guard TansuBroker.libraryCanTalkToIt else {
                throw HTTPGet.Failure(description: "BAOCUO_TANSU is set, but \(TansuBroker.skipReason)")
            }
            let broker = try TansuBroker()
            defer { broker.stop() }
            try await broker.waitUntilListening()
            try await TansuBroker.$current.withValue(broker, operation: function)
        }
    }

    static var binary: String {
        ProcessInfo.processInfo.environment["BAOCUO_TANSU"] ?? TestPaths.checkout.appendingPathComponent(".build/tansu/tansu").path
    }

    let process = Process()
    let brokers: String
    let logPath: String

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw HTTPGet.Failure(description: "no tansu binary at \(Self.binary): run scripts/second-library.sh (or set BAOCUO_TANSU)")
        }
        let holder = try TakenPort()
        let port = holder.port
        holder.close()
        brokers = "127.0.0.1:\(port)"
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [
            "broker", "--storage-engine", "memory://tansu/",
            "--listener-url", "tcp://127.0.0.1:\(port)", "--advertised-listener-url", "tcp://127.0.0.1:\(port)",
        ]
        let logDirectory = TestPaths.checkout.appendingPathComponent(".build/test-logs")
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        logPath = logDirectory.appendingPathComponent("tansu-\(port).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        // One handle for both streams: two would each write from offset 0 over the other.
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Waits until the broker logs that it is ready (it prints `ready in N ms` once listening).
    /// The timeout is generous: in CI the suite starts next to the busiest tests on two cores.
    func waitUntilListening(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, process.isRunning {
            if log.contains("ready in") { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        if log.contains("ready in") { return }
        throw HTTPGet.Failure(description: "tansu did not start listening on \(brokers): \(log.suffix(500))")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}
