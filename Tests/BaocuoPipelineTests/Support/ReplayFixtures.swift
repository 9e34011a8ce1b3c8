import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A temporary copy of `Config/` with its own topic prefix and a subset of the region table, so that
/// a suite's cluster needs a hundred topics instead of twelve hundred, and a test can edit the files.
struct TestConfigFolder: Sendable {
    let path: String
    let prefix: String

    /// Keeps the region rows of `regions` (pooling codes) only.
    init(prefix: String, regions: Set<String>) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("baocuo-config-\(UUID().uuidString.prefix(8))").path
        self.prefix = prefix
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for file in [DomainConfiguration.calendarFile, DomainConfiguration.rulesFile] {
            try FileManager.default.copyItem(atPath: TestPaths.config + "/" + file, toPath: path + "/" + file)
        }
        let settings = try String(contentsOfFile: TestPaths.config + "/" + DomainConfiguration.settingsFile, encoding: .utf8)
        try settings.replacingOccurrences(of: #"topicPrefix: "yb.""#, with: #"topicPrefix: "\#(prefix)""#)
            .write(toFile: path + "/" + DomainConfiguration.settingsFile, atomically: true, encoding: .utf8)
        try writeRegions(regions)
    }

    /// Rewrites regions.csv with the rows of `regions` only.
    func writeRegions(_ regions: Set<String>) throws {
        let rows = try String(contentsOfFile: TestPaths.config + "/" + DomainConfiguration.regionsFile, encoding: .utf8)
            .split(whereSeparator: \.isNewline)  // the file has CRLF line ends
        let kept = [rows[0]] + rows.dropFirst().filter { regions.contains(String($0.prefix { $0 != "," })) }
        try (kept.joined(separator: "\n") + "\n").write(
            toFile: path + "/" + DomainConfiguration.regionsFile, atomically: true, encoding: .utf8)
    }

    /// Appends `text` to a file of the folder.
    func append(_ text: String, to file: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path + "/" + file))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        handle.closeFile()
    }

    func load() throws -> DomainConfiguration {
        try DomainConfiguration.load(directory: path, environment: [:])
    }

    /// The topics this configuration routes to, created on `cluster`.
    func createTopics(on cluster: MockCluster, inputPartitions: Int) throws {
        let configuration = try load()
        let layout = TopicLayout(names: TopicNames(prefix: prefix), regions: configuration.regions, inputPartitions: inputPartitions)
        try cluster.createTopics(layout.topics.map { ($0.name, $0.partitions) })
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Facts about the sample reports that tests choose regions by.
enum SampleRegions {
    /// The pooling regions the sample reports resolve to (insured and treatment).
    static let pooling: Set<String> = {
        var codes: Set<String> = []
        for line in SampleReports.lines {
            for code in [insuredRegion(line), treatmentRegion(line)].compactMap({ $0 }) {
                if let region = TestConfiguration.shared.regions.resolve(code) { codes.insert(region.code) }
            }
        }
        return codes
    }()

    static func insuredRegion(_ line: [UInt8]) -> String? { field(line, "insured", "regionCode") }

    static func reportId(_ line: [UInt8]) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any])?["reportId"] as? String
    }

    /// Whether `configuration` routes the line (rather than rejecting it).
    static func routes(_ line: [UInt8], _ configuration: DomainConfiguration) -> Bool {
        rejectCode(line, configuration) == nil
    }

    /// The code `configuration` rejects the line with; nil when it routes it.
    static func rejectCode(_ line: [UInt8], _ configuration: DomainConfiguration) -> String? {
        switch RoutingEngine(configuration: configuration).route(line, receivedAt: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000)) {
        case .routed: nil
        case .rejected(let rejection): rejection.code.rawValue
        }
    }
    static func treatmentRegion(_ line: [UInt8]) -> String? { field(line, "hospital", "regionCode") }

    private static func field(_ line: [UInt8], _ object: String, _ name: String) -> String? {
        let json = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
        return (json?[object] as? [String: Any])?[name] as? String
    }
}

/// Every person ID of the sample files, and a check that a text holds none of them unmasked.
enum PersonIDScan {
    static let sampleIDs: Set<String> = {
        var ids: Set<String> = []
        for line in SampleReports.lines {
            let json = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
            if let id = (json?["insured"] as? [String: Any])?["personId"] as? String, id.count == 18 { ids.insert(id) }
        }
        return ids
    }()

    /// How many sample person IDs occur unmasked in `text` (never which: the count keeps failures clean).
    static func unmaskedCount(in text: String) -> Int {
        sampleIDs.filter { text.contains($0) }.count
    }
}

/// What a consumer group committed on a topic.
enum Committed {
    static func offsets(group: String, topic: String, partitions: [Int32], brokers: String) async throws -> [Int32: Int64] {
        let consumer = try KafkaConsumer(
            configuration: KafkaConfiguration(["bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": "false"]),
            assignment: [], logger: TestLogging.logger
        )
        let committed = try await consumer.committed(partitions.map { TopicPartition(topic: topic, partition: $0) })
        await consumer.close()
        return Dictionary(
            committed.compactMap { entry in entry.offset.position.map { (entry.partition, $0) } },
            uniquingKeysWith: { first, _ in first })
    }
}

/// A blocking HTTP/1.1 GET over a plain socket (the observability endpoint is on 127.0.0.1).
enum HTTPGet {
    struct Response: Sendable {
        var status: Int
        var body: String
    }

    static func fetch(port: Int, path: String) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try fetchBlocking(port: port, path: path) })
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static func fetchBlocking(port: Int, path: String) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n").first,
            let status = Int(statusLine.split(separator: " ").dropFirst().first ?? ""),
            let bodyStart = text.range(of: "\r\n\r\n")
        else { throw Failure(description: "not an HTTP response: \(text.prefix(200))") }
        return Response(status: status, body: String(text[bodyStart.upperBound...]))
    }
}

/// Runs `baocuo replay`'s code in this process: the plan, then the runner, collecting every record.
func runReplay(
    _ options: ReplayOptions, configuration: DomainConfiguration,
    offsetsForTimes: ReplayPlan.OffsetsForTimes? = nil
) async throws -> (ReplayPlan, ReplaySummary, [ReplayedRecord]) {
    let plan = try await ReplayPlan.resolve(options, logger: TestLogging.logger, offsetsForTimes: offsetsForTimes)
    let records = RecordCollector()
    let runner = ReplayRunner(
        options: options, router: RecordRouter(configuration: configuration, group: options.group),
        logger: TestLogging.logger)
    let summary = try await runner.run(plan, onRecord: records.append)
    return (plan, summary, records.all)
}

/// The dead-letter re-drive scenario, on any broker: every sample report routed by a fleet whose
/// region table lacks one region, then the dead-letter topic replayed with the table fixed. The
/// broker's part is given by the caller: creating the topics and routing the input topic.
struct DeadLetterRedrive {
    let brokers: String
    let prefix: String
    /// Read topics to the end the broker's fetches report (tansu: see `TopicReader.untilPartitionEnd`).
    var untilPartitionEnd = false
    /// librdkafka properties of the replays.
    var kafkaProperties: [String: String] = [:]
    /// Creates the topics of `full` (its whole layout, one input partition).
    let createTopics: (_ full: TestConfigFolder) async throws -> Void
    /// Routes everything on the input topic with `lacking`'s configuration and returns once the
    /// group has committed it all.
    let route: (_ lacking: TestConfigFolder) async throws -> Void

    func run() async throws {
        let lines = SampleReports.generate(count: SampleReports.lines.count, tag: "-" + prefix.filter(\.isLetter))
        let full = try TestConfigFolder(prefix: prefix, regions: SampleRegions.pooling)
        defer { full.remove() }
        let fixed = try full.load()
        let routable = try #require(lines.first { SampleRegions.routes($0, fixed) })
        let missing = try #require(SampleRegions.insuredRegion(routable).flatMap { fixed.regions.resolve($0)?.code })
        let lacking = try TestConfigFolder(prefix: prefix, regions: SampleRegions.pooling.subtracting([missing]))
        defer { lacking.remove() }
        try await createTopics(full)
        let names = TopicNames(prefix: prefix)
        try await SampleReports.load(lines, topic: names.failures, brokers: brokers)
        try await route(lacking)

        let lackingConfiguration = try lacking.load()
        let forMissing = lines.filter { SampleRegions.routes($0, fixed) && !SampleRegions.routes($0, lackingConfiguration) }.count
        let malformed = lines.filter { !SampleRegions.routes($0, fixed) }.count
        #expect(forMissing > 0)
        let reader = TopicReader(brokers: brokers, logger: TestLogging.logger, untilPartitionEnd: untilPartitionEnd)
        let deadLetters = try await reader.readAll(reader.topics { $0 == names.failuresDLQ })
        #expect(
            deadLetters.filter { $0.header(DeadLetterHeader.errorCode) == "UNKNOWN_REGION" }.count
                == lines.filter { SampleRegions.rejectCode($0, lackingConfiguration) == "UNKNOWN_REGION" }.count)

        var redrive = ReplayOptions(
            brokers: brokers, sourceTopic: names.failuresDLQ, group: prefix + "redrive-replay",
            selection: ReplaySelection(range: .offsets(partition: nil, start: nil, end: nil)), execute: true,
            pollBatchSize: 7, commitInterval: .milliseconds(100))
        redrive.kafkaProperties = kafkaProperties
        let (_, summary, _) = try await runReplay(redrive, configuration: fixed)
        #expect(summary.nowRouted == forMissing && summary.stillRejected == malformed, "\(summary)")

        let inbox = try await reader.readAll(reader.topics { $0 == names.inbox(region: missing) })
        let redriven = inbox.filter { $0.header(ReplayHeader.id) == redrive.runID && $0.valueString.contains(#""role":"owner""#) }
        #expect(redriven.count == forMissing, "the re-driven reports reach the fixed region's inbox")
        let again = try await reader.readAll(reader.topics { $0 == names.failuresDLQ }).filter {
            $0.header(ReplayHeader.id) == redrive.runID
        }
        #expect(again.isEmpty, "records rejected again with the same code are not dead-lettered again")

        // `--all` dead-letters them again, with their error headers replaced.
        var all = redrive
        all.reEmitAll = true
        all.restart = true
        let (_, everything, _) = try await runReplay(all, configuration: fixed)
        #expect(everything.stillRejected == malformed && everything.nowRouted == 0, "the re-driven reports stand now: \(everything)")
        let redriven2 = try await reader.readAll(reader.topics { $0 == names.failuresDLQ }).filter {
            $0.header(ReplayHeader.id) == redrive.runID
        }
        #expect(redriven2.count == malformed)
        for record in redriven2 {
            #expect(record.header(DeadLetterHeader.attempts) == "2")
            #expect(record.headers.filter { $0.key == DeadLetterHeader.errorCode }.count == 1, "error headers are replaced, not piled up")
            #expect(record.headers.filter { $0.key == ReplayHeader.id }.count == 1)
            #expect(record.header(DeadLetterHeader.sourceTopic) == names.failures, "the first origin stays")
        }
        print("dead-letter re-drive on \(brokers): \(forMissing) reports routed to \(missing) after the fix, \(malformed) rejected again")
    }
}
