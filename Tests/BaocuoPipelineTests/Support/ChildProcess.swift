import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `baocuo` subcommand running as a separate process, for tests about processes (crash,
/// rebalance, signals). Its stderr goes to a log file kept for the PII scan; stdout is captured.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String
    private let stdoutPipe = Pipe()

    init(_ arguments: [String], environment: [String: String] = [:], name: String) throws {
        process.executableURL = URL(fileURLWithPath: TestPaths.baocuo)
        process.arguments = arguments
        // The test's own BAOCUO_* knobs (BAOCUO_DEAF_RUNS, …) are not settings: `baocuo` refuses
        // unknown BAOCUO_* variables, so a child gets only the ones a test passes.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BAOCUO_") }
        env["BAOCUO_CONFIG_DIR"] = TestPaths.config
        env.merge(environment) { _, new in new }
        process.environment = env
        let logDirectory = TestPaths.checkout.appendingPathComponent(".build/test-logs")
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        logPath = logDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8)).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = stdoutPipe
        try process.run()
    }

    /// The first line the process prints on stdout (e.g. the dev cluster's bootstrap list).
    func firstLine() -> String? {
        var bytes: [UInt8] = []
        let handle = stdoutPipe.fileHandleForReading
        while true {
            let chunk = handle.readData(ofLength: 1)
            guard let byte = chunk.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    /// Everything the process prints on stdout, read until it exits (the output must be what
    /// the test is waiting for: this blocks until the process closes stdout).
    func standardOutput() -> String {
        String(decoding: stdoutPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the exit, up to `timeout`; nil when still running.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// Waits until the process's log contains `text`, up to `timeout`.
    func waitForLog(_ text: String, timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while !log.contains(text), process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
