// baocuo-bench: reports per second and allocations per report for each stage of the routing
// engine, over a file of report JSON lines (e.g. from shared/bench/gen_reports.py).
//
//   baocuo-bench [--config DIR] [--repeat N] [--only PREFIX] [--check] FILE
//
// Each stage runs N times over every line (best time kept: the cores are shared and noisy);
// allocations are counted by the MallocCounter interposer over one pass. `--only` runs the
// stages whose name starts with PREFIX (e.g. under callgrind). `--check` also runs the
// correctness smoke (every line is routed or rejected, and routing is deterministic).
import ArgumentParser
import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import MallocCounter

/// A command only for its name and help: the stages below run as top-level code.
struct Arguments: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baocuo-bench",
        abstract: "Reports per second and allocations per report for each stage of the routing engine.")

    @Option(help: "Configuration folder (baocuo.yaml, regions.csv, calendar.csv, classification.yaml).")
    var config = "Config"

    @Option(name: .customLong("repeat"), help: "Passes over the input per stage; the best is kept.")
    var repeatCount = 3

    @Option(help: "Run only the stages whose name starts with this (e.g. \"engine\" under callgrind).")
    var only = ""

    @Flag(help: "Also run the correctness smoke: every line routed or rejected, the same way twice.")
    var check = false

    @Argument(help: "Report v1 JSON lines, e.g. from shared/bench/gen_reports.py.")
    var input: String

    func validate() throws {
        guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1") }
    }
}

/// The input file's non-blank lines as ranges of one buffer, so no stage pays for slicing.
struct Lines {
    let buffer: [UInt8]
    let ranges: [Range<Int>]

    init?(path: String) {
        guard let contents = FileManager.default.contents(atPath: path) else { return nil }
        let buffer = Array(contents)
        var ranges: [Range<Int>] = []
        // memchr, not a byte loop: under callgrind this set-up scales with the file and would
        // otherwise add ~3,900 instructions to every line's (10k run − 5k run) figure.
        buffer.withUnsafeBytes { all in
            var start = 0
            while start < all.count {
                let newline = memchr(all.baseAddress! + start, 0x0A, all.count - start)
                let end = newline.map { UnsafeRawPointer(all.baseAddress!).distance(to: UnsafeRawPointer($0)) } ?? all.count
                if end > start { ranges.append(start..<end) }
                start = end + 1
            }
        }
        self.buffer = buffer
        self.ranges = ranges
    }

    func forEachLine(_ body: (Int, UnsafeRawBufferPointer) -> Void) {
        buffer.withUnsafeBytes { all in
            for (index, range) in ranges.enumerated() { body(index, UnsafeRawBufferPointer(rebasing: all[range])) }
        }
    }
}

struct Measurement {
    let stage: String
    let items: Int
    let seconds: Double
    let allocations: UInt64

    var perSecond: Double { Double(items) / seconds }
    var nanosecondsPerItem: Double { seconds * 1e9 / Double(items) }
    var allocationsPerItem: Double { Double(allocations) / Double(items) }
}

/// Runs `pass` (one pass over `items` inputs) `repeatCount` times; keeps the best time and the
/// allocations of the last pass (passes are identical, and the first warms caches and buffers).
func measure(_ stage: String, items: Int, repeatCount: Int, _ pass: () -> Void) -> Measurement {
    var best = Double.infinity
    var allocations: UInt64 = 0
    for _ in 0..<max(1, repeatCount) {
        let before = malloc_counter_allocations()
        let start = ContinuousClock.now
        pass()
        let elapsed = ContinuousClock.now - start
        allocations = malloc_counter_allocations() - before
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = min(best, seconds)
    }
    return Measurement(stage: stage, items: items, seconds: best, allocations: allocations)
}

let arguments = Arguments.parseOrExit()
let configuration: DomainConfiguration
do {
    configuration = try DomainConfiguration.load(directory: arguments.config, environment: [:])
} catch {
    FileHandle.standardError.write(Data("baocuo-bench: \(error)\n".utf8))
    exit(1)
}
let engine = RoutingEngine(configuration: configuration)
let encoder = RoutedRecordEncoder(configuration: configuration)
let lines: Lines
if let read = Lines(path: arguments.input) {
    lines = read
} else {
    FileHandle.standardError.write(Data("baocuo-bench: cannot read \(arguments.input)\n".utf8))
    exit(1)
}
let count = lines.ranges.count

/// Inputs of the single-step stages, from one untimed pass of the engine: built on first use,
/// so that a profile of the engine stages (`--only engine`) contains nothing else.
@MainActor enum Prepared {
    static let routed: [(index: Int, routed: RoutedReport)] = {
        var routed: [(index: Int, routed: RoutedReport)] = []
        lines.forEachLine { index, line in
            if case .routed(let report) = engine.route(line, receivedAt: nil) { routed.append((index, report)) }
        }
        return routed
    }()
    static let reports = routed.map(\.routed.report)
    static let messages = reports.compactMap(\.failureMessage)
    static let classificationInputs = reports.map(ClassificationInput.init(report:))
}

var results: [Measurement] = []
@MainActor func stage(_ name: String, items: @autoclosure () -> Int, _ pass: () -> Void) {
    guard name.hasPrefix(arguments.only) else { return }
    results.append(measure(name, items: items(), repeatCount: arguments.repeatCount, pass))
}
var sink = 0  // keeps results observable so no stage is optimised away
var parser = JSONParser()
stage("parse (JSON tape)", items: count) {
    lines.forEachLine { _, line in
        if case .success(let document) = parser.parse(line) { sink &+= document.tape.count }
    }
}
stage("decode (parse + validate)", items: count) {
    lines.forEachLine { _, line in
        if case .success(let report) = engine.decoder.decode(line, using: &parser) { sink &+= report.reportId.utf8.count }
    }
}
stage("normalise message", items: Prepared.messages.count) {
    for message in Prepared.messages { sink &+= MessageNormalizer.normalize(message).utf8.count }
}
stage("classify", items: Prepared.classificationInputs.count) {
    for input in Prepared.classificationInputs { sink &+= configuration.classifier.classify(input).ruleId.utf8.count }
}
stage("resolve regions (insured + hospital)", items: Prepared.reports.count) {
    for report in Prepared.reports {
        sink &+= engine.regions.resolve(report.insuredRegionCode) == nil ? 0 : 1
        sink &+= engine.regions.resolve(report.hospitalRegionCode) == nil ? 0 : 1
    }
}
stage("calendar cycle", items: Prepared.reports.count) {
    for report in Prepared.reports {
        sink &+= Int(engine.calendar.cycle(receivedAt: report.reportedAt).intakeAt.millisecondsSinceEpoch & 1)
    }
}
var output: [UInt8] = []
output.reserveCapacity(1 << 16)
stage("encode owner copy", items: Prepared.routed.count) {
    lines.buffer.withUnsafeBytes { all in
        for (index, routed) in Prepared.routed {
            output.removeAll(keepingCapacity: true)
            encoder.append(
                routed, role: .owner, originalReport: UnsafeRawBufferPointer(rebasing: all[lines.ranges[index]]),
                to: &output)
            sink &+= output.count
        }
    }
}
stage("engine (route)", items: count) {
    lines.forEachLine { _, line in
        if case .routed(let routed) = engine.route(line, receivedAt: nil, using: &parser) { sink &+= routed.cc.count }
    }
}
stage("engine + encode (per classify line)", items: count) {
    lines.forEachLine { _, line in
        output.removeAll(keepingCapacity: true)
        if case .routed(let routed) = engine.route(line, receivedAt: nil, using: &parser) {
            encoder.append(routed, role: .owner, originalReport: line, to: &output)
        }
        sink &+= output.count
    }
}

// What `baocuo run` does per record besides the engine, without Kafka: every output (owner, cc,
// ops copies, dead letters) written into a reusable `OutputBatch` as the router does, the record
// tracked for its commit frontier and, per poll-sized batch, every output acknowledged as the
// delivery thread does. Minus "engine + encode", it is the router's own per-record cost.
let recordRouter = RecordRouter(configuration: configuration, group: "baocuo-bench")
let tracker = OffsetTracker()
let benchPartition = TopicPartition(topic: recordRouter.topics.failures, partition: 0)
var routerBatch = OutputBatch()
var nextOffset: Int64 = 0
var pendingTokens: [UInt64] = []
@MainActor func acknowledgeAll() {
    for token in pendingTokens { sink &+= Int(tracker.acknowledge(token) ?? 0) & 1 }
    pendingTokens.removeAll(keepingCapacity: true)
    routerBatch.removeAll()
}
stage("router (all outputs + offset tracking)", items: count) {
    let receivedAtMs = Int64(Date().timeIntervalSince1970 * 1000)
    lines.forEachLine { index, line in
        if index % 16_000 == 0 { acknowledgeAll() }
        let source = SourcePosition(topic: benchPartition.topic, partition: 0, offset: nextOffset, timestampMs: receivedAtMs)
        let first = routerBatch.records.count
        recordRouter.route(
            key: nil, value: line, source: source, headers: { [] },
            failedAt: { Timestamp(millisecondsSinceEpoch: receivedAtMs) }, into: &routerBatch)
        let token = tracker.begin(
            benchPartition, offset: nextOffset, ingestedAtMs: receivedAtMs, outputs: routerBatch.records.count - first)
        for output in first..<routerBatch.records.count {
            pendingTokens.append(output == first ? token | OffsetTracker.firstOutputFlag : token)
        }
        nextOffset += 1
    }
    acknowledgeAll()
}

print("input: \(arguments.input): \(count) lines; best of \(arguments.repeatCount)")
print("| stage | items | reports/s | ns/report | allocations/report |")
print("|---|---:|---:|---:|---:|")
for result in results {
    print(
        "| \(result.stage) | \(result.items) | \(Int(result.perSecond.rounded())) | "
            + "\(String(format: "%.0f", result.nanosecondsPerItem)) | \(String(format: "%.2f", result.allocationsPerItem)) |")
}

if arguments.check {
    // Correctness smoke: the engine answers every line the same way twice.
    var mismatches = 0
    lines.forEachLine { _, line in
        let first: Bool = if case .routed = engine.route(line, receivedAt: nil) { true } else { false }
        let second: Bool = if case .routed = engine.route(line, receivedAt: nil) { true } else { false }
        if first != second { mismatches += 1 }
    }
    guard mismatches == 0, count > 0, !Prepared.routed.isEmpty else {
        print("check FAILED: \(mismatches) of \(count) lines routed differently the second time; \(Prepared.routed.count) routed")
        exit(1)
    }
    print("check ok: \(count) lines, \(Prepared.routed.count) routed, the rest rejected, each the same way twice")
}
if sink == 42 { print("") }
