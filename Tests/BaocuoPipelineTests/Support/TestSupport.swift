import BaocuoDomain
import BaocuoKafka
import BaocuoObservability
import BaocuoPipeline
import Foundation
import Logging

/// Paths and shared fixtures of the pipeline tests.
enum TestPaths {
    /// The checkout this test file belongs to.
    static let checkout: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `$BAOCUO_TEST_CONFIG_DIR` when set (an older `baocuo` refuses newer settings' keys).
    static let config =
        ProcessInfo.processInfo.environment["BAOCUO_TEST_CONFIG_DIR"]
        ?? checkout.appendingPathComponent("Config").path
    static let samples = checkout.appendingPathComponent("Demo/reports.jsonl").path

    /// The `baocuo` executable built next to the test bundle (`$BAOCUO_TEST_EXECUTABLE` when set,
    /// e.g. a release build for a reproduction loop).
    static let baocuo: String = {
        if let chosen = ProcessInfo.processInfo.environment["BAOCUO_TEST_EXECUTABLE"] { return chosen }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("baocuo").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return checkout.appendingPathComponent(".build/debug/baocuo").path
    }()
}

enum TestConfiguration {
    static let shared: DomainConfiguration = {
        do {
            return try DomainConfiguration.load(directory: TestPaths.config, environment: [:])
        } catch {
            fatalError("test configuration: \(error)")
        }
    }()
}

/// Test logs go through Baocuo's handler at warning level, so the PII scan sees what production would.
enum TestLogging {
    static let logger: Logger = {
        var logger = Logger(label: "baocuo.test") { label in
            BaocuoLogHandler(label: label, level: .warning, format: .text)
        }
        logger.logLevel = .warning
        return logger
    }()
}

/// The sample reports, replicated with unique report ids: valid lines get `-N` appended to their
/// reportId; malformed lines are kept as they are (each copy is its own dead letter).
enum SampleReports {
    static let lines: [[UInt8]] = {
        let data = FileManager.default.contents(atPath: TestPaths.samples)!
        return data.split(separator: UInt8(ascii: "\n")).map(Array.init)
    }()

    /// `tag` keeps the ids of one test apart from another's on a shared cluster.
    static func generate(count: Int, tag: String = "") -> [[UInt8]] {
        (0..<count).map { index in
            let line = lines[index % lines.count]
            guard let range = reportIdValueRange(in: line) else { return line }
            var copy = Array(line[..<range.upperBound])
            copy.append(contentsOf: Array("\(tag)-\(index)".utf8))
            copy.append(contentsOf: line[range.upperBound...])
            return copy
        }
    }

    /// The bytes of the reportId string value (without its closing quote), located textually.
    private static func reportIdValueRange(in line: [UInt8]) -> Range<Int>? {
        let marker = Array(#""reportId": ""#.utf8)
        guard line.count > marker.count else { return nil }
        for start in 0...(line.count - marker.count) where line[start..<(start + marker.count)].elementsEqual(marker) {
            let valueStart = start + marker.count
            guard let end = line[valueStart...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            return valueStart..<end
        }
        return nil
    }

    /// Produces lines into `topic` (into `partition` when given) keyed by nothing, timestamped
    /// `baseMs + index × stepMs`.
    static func load(
        _ lines: [[UInt8]], topic: String, partition: Int32? = nil, brokers: String,
        baseMs: Int64 = 1_795_000_000_000, stepMs: Int64 = 1
    ) async throws {
        // No sticky partitioning: unkeyed records spread evenly, so no partition of the mock
        // exceeds its ~5 MB retention and silently drops the oldest records.
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration([
                "bootstrap.servers": brokers, "linger.ms": "20", "sticky.partitioning.linger.ms": "0",
            ]), logger: TestLogging.logger)
        var batch: [ProducerRecord] = []
        for (index, line) in lines.enumerated() {
            batch.append(ProducerRecord(topic: topic, partition: partition, value: line, timestampMs: baseMs + Int64(index) * stepMs))
            if batch.count == 5000 {
                try await producer.send(batch)
                batch.removeAll()
            }
        }
        if !batch.isEmpty { try await producer.send(batch) }
        await producer.close()
    }
}

/// Deterministic pseudo-random numbers for test inputs (Knuth's 64-bit LCG, high bits out).
struct TestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state ^ (state >> 29)
    }
}
