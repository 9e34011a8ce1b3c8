import ArgumentParser
import BaocuoDomain
import BaocuoObservability
import BaocuoPipeline
import Foundation
import Logging
import Synchronization
import UnixSignals

/// `baocuo replay`: re-route records of the ingest topic or the DLQ through the current rules.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-route records of the ingest topic or its DLQ through the current rules (preview unless --execute).",
        discussion: """
        Select by offsets (--partition, --start-offset, --end-offset; end exclusive; every partition \
        without --partition), by receive time (--since/--until, RFC 3339), and/or by report ids \
        (--report-ids FILE, one per line). Without --execute nothing is produced: the command shows \
        what would change against the earlier routing (the owner copies in the inboxes, or the DLQ \
        headers). With --execute every selected record is routed again; outputs carry \
        baocuo.replay.id, baocuo.replay.source and baocuo.replay.at headers, and records that fail \
        again return to the DLQ with their error headers replaced. The run commits its own group's \
        offsets once outputs are acknowledged: after SIGINT/SIGTERM (exit 3) the same command \
        continues where it stopped. Exit 0 when the range is done.
        """
    )

    @OptionGroup var brokerOptions: BrokerOptions

    @Option(name: .long, help: "The topic to replay: the ingest topic (default) or its DLQ, e.g. yb.settlement.failures.dlq.")
    var fromTopic: String?

    @Option(name: .long, help: "Only this partition (default: every partition).")
    var partition: Int32?

    @Option(name: .long, help: "First offset to replay (default: the partition's oldest).")
    var startOffset: Int64?

    @Option(name: .long, help: "Offset to stop before, exclusive (default: the partition's end when the run starts).")
    var endOffset: Int64?

    @Option(name: .long, help: "Replay records received at or after this time (RFC 3339, e.g. 2026-11-23T00:00:00+08:00).")
    var since: String?

    @Option(name: .long, help: "Replay records received before this time (RFC 3339).")
    var until: String?

    @Option(name: .long, help: "File of report ids, one per line: replay only those (matched on the key or the report's reportId).")
    var reportIds: String?

    @Option(name: .long, help: "The replay's consumer group, which holds its checkpoint (default: baocuo-replay-<topic>). Never the fleet's.")
    var group: String?

    @Flag(name: .long, help: "Produce the outputs. Without it the run is a preview: nothing is produced or committed.")
    var execute = false

    @Option(name: .long, help: "Records per second when executing (default: unlimited).")
    var rate: Int?

    @Flag(name: .long, help: "Ignore the group's checkpoint and start the range over.")
    var restart = false

    @Option(name: .long, help: "Changed records listed one per line, at most (the summary counts them all).")
    var maxDetails = 50

    @OptionGroup var configOptions: ConfigOptions

    func validate() throws {
        if (since == nil) != (until == nil) { throw ValidationError("--since and --until go together") }
        let byOffsets = partition != nil || startOffset != nil || endOffset != nil
        if byOffsets, since != nil { throw ValidationError("select by offsets or by time, not both") }
        if !byOffsets, since == nil, reportIds == nil {
            throw ValidationError("choose what to replay: --partition/--start-offset/--end-offset, --since/--until, or --report-ids")
        }
        if let startOffset, let endOffset, startOffset >= endOffset { throw ValidationError("--start-offset must be below --end-offset") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if maxDetails < 0 { throw ValidationError("--max-details must not be negative") }
    }

    func run() async throws {
        let configuration = try configOptions.load()
        let settings = configuration.settings
        let logger = LoggingSetup.bootstrap(settings: settings, label: "baocuo.replay")
        let brokers = try brokerOptions.resolve(settings)
        let topics = TopicNames(prefix: settings.topicPrefix)
        let sourceTopic = fromTopic ?? topics.failures
        let group = group ?? ReplayOptions.defaultGroup(topic: sourceTopic)
        let options = ReplayOptions(
            brokers: brokers, sourceTopic: sourceTopic, group: group, fleetGroup: settings.kafka.group,
            selection: try selection(), execute: execute, recordsPerSecond: rate, restart: restart,
            kafkaProperties: settings.kafka.properties, maxRecordBytes: settings.limits.maxRecordBytes
        )
        do {
            try await replay(options, configuration: configuration, logger: logger)
        } catch let error as ReplayError {
            throw RuntimeError("\(error)")
        }
    }

    private func replay(_ options: ReplayOptions, configuration: DomainConfiguration, logger: Logger) async throws {
        let plan = try await ReplayPlan.resolve(options, logger: logger)
        let out = ReplayPrinter(maxDetails: maxDetails, executing: execute)
        out.describe(plan, options: options)
        guard plan.remaining > 0 else {
            out.line(plan.partitions.isEmpty ? "nothing to replay: the range holds no records"
                                             : "nothing left to replay: group \(plan.group) has already replayed this range (--restart starts it over)")
            return
        }
        let runner = ReplayRunner(options: options, router: RecordRouter(configuration: configuration, group: options.group), logger: logger)
        let signals = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                out.note("stopping after the current batch: waiting for acknowledgements, then committing the checkpoint…")
                runner.requestStop()
            }
        }
        defer { signals.cancel() }
        let progress = ProgressDisplay()
        let summary = try await runner.run(plan, onProgress: progress.update, onRecord: out.record)
        progress.finish()
        out.summarize(summary)
        if summary.interrupted {
            out.line(execute ? "interrupted: the checkpoint is committed; run the same command again to continue"
                             : "interrupted: a preview commits nothing")
            throw ExitCode(3)
        }
    }

    private func selection() throws -> ReplaySelection {
        var ids: Set<String>?
        if let reportIds {
            guard let data = FileManager.default.contents(atPath: reportIds) else { throw RuntimeError("cannot read \(reportIds)") }
            ids = Set(String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            if ids?.isEmpty == true { throw ValidationError("\(reportIds) lists no report id") }
        }
        if let since, let until {
            guard let start = Timestamp.parseRFC3339(since) else { throw ValidationError("--since: not an RFC 3339 time with an offset: \(since)") }
            guard let end = Timestamp.parseRFC3339(until) else { throw ValidationError("--until: not an RFC 3339 time with an offset: \(until)") }
            guard start < end else { throw ValidationError("--since must be before --until") }
            return ReplaySelection(range: .time(since: start, until: end), reportIds: ids)
        }
        if partition != nil || startOffset != nil || endOffset != nil {
            return ReplaySelection(range: .offsets(partition: partition, start: startOffset, end: endOffset), reportIds: ids)
        }
        return ReplaySelection(range: .all, reportIds: ids)
    }
}

/// The replay's stdout: the plan, one line per changed record (up to a limit), the summary. Every
/// line passes the person-ID redactor, although nothing printed is meant to hold one.
final class ReplayPrinter: Sendable {
    private let maxDetails: Int
    private let executing: Bool
    private let detailsPrinted = Mutex(0)

    init(maxDetails: Int, executing: Bool) {
        self.maxDetails = maxDetails
        self.executing = executing
    }

    func line(_ text: String) {
        FileHandle.standardOutput.write(Data((PersonIDRedactor.redact(text) + "\n").utf8))
    }

    /// A remark on stderr, apart from the results.
    func note(_ text: String) {
        FileHandle.standardError.write(Data(("baocuo: " + PersonIDRedactor.redact(text) + "\n").utf8))
    }

    func describe(_ plan: ReplayPlan, options: ReplayOptions) {
        line("replay \(plan.runID): \(plan.topic) → current rules, group \(plan.group)")
        line(executing ? "mode   EXECUTE: outputs are produced; the checkpoint is committed as they are acknowledged"
                       : "mode   PREVIEW: nothing is produced or committed (add --execute to replay)")
        if plan.timeLookup == .scanFallback {
            line("time   the broker does not answer offsetsForTimes (librdkafka's mock cluster answers \"end\" for every time): scanning whole partitions and filtering on record timestamps")
        }
        for range in plan.partitions {
            let resumed = range.isResumed ? " — resuming at \(range.from) from the group's checkpoint" : ""
            line("range  \(plan.topic)[\(range.partition)] offsets \(range.start)..<\(range.end)\(resumed)")
        }
    }

    func record(_ record: ReplayedRecord) {
        guard record.verdict != .unchanged else { return }
        let index = detailsPrinted.withLock { count in
            count += 1
            return count
        }
        guard index <= maxDetails else {
            if index == maxDetails + 1 { line("…      further changes are only counted (--max-details)") }
            return
        }
        let would = executing ? "routed" : "would route"
        let subject = "\(record.reportId ?? "(no reportId)") \(record.source)"
        switch (record.verdict, record.prior, record.current) {
        case (.changed, .routed(let before), .routed(let now)):
            var parts: [String] = []
            if before.category != now.category { parts.append("category \(before.category) → \(now.category)") }
            if before.owner != now.owner { parts.append("owner \(before.owner) → \(now.owner)") }
            if before.cc != now.cc { parts.append("cc \(Self.list(before.cc)) → \(Self.list(now.cc))") }
            line("CHANGED  \(subject): \(parts.joined(separator: "; "))")
        case (.nowRouted, .deadLettered(let code), .routed(let now)):
            line("ROUTES   \(subject): \(executing ? "routed" : "would now route") to \(Self.describe(now)); was rejected \(code)")
        case (.stillRejected, _, .rejected(let code, let detail)):
            line("REJECTED \(subject): still rejected: \(code) (\(detail))")
        case (.nowRejected, .routed(let before), .rejected(let code, let detail)):
            line("REJECTED \(subject): now rejected: \(code) (\(detail)); was routed to \(Self.describe(before))")
        case (.routedWithoutPrior, _, .routed(let now)):
            line("NEW      \(subject): \(would) to \(Self.describe(now)); no earlier owner copy found")
        case (.rejectedWithoutPrior, _, .rejected(let code, let detail)):
            line("REJECTED \(subject): rejected: \(code) (\(detail)); no earlier owner copy found")
        default:
            line("CHANGED  \(subject)")
        }
    }

    func summarize(_ summary: ReplaySummary) {
        line("summary\(executing ? "" : " (preview: nothing was produced)")")
        func row(_ label: String, _ value: Int, _ detail: String = "") {
            let number = String(value)
            line("  " + label.padding(toLength: 22, withPad: " ", startingAt: 0)
                 + String(repeating: " ", count: max(0, 8 - number.count)) + number + (detail.isEmpty ? "" : "  " + detail))
        }
        row("scanned", summary.scanned, "records in the range")
        row("selected", summary.selected, summary.scanned > summary.selected ? "\(summary.scanned - summary.selected) skipped by the selection" : "")
        if summary.ownOutputsSkipped > 0 { row("own dead letters", summary.ownOutputsSkipped, "written earlier by this run, skipped") }
        row("unchanged", summary.unchanged)
        row("changed", summary.changed, "category \(summary.categoryChanged), owner \(summary.ownerChanged), cc \(summary.ccChanged)")
        row("dead letters routing", summary.nowRouted)
        row("still rejected", summary.stillRejected)
        row("newly rejected", summary.nowRejected)
        if summary.routedWithoutPrior + summary.rejectedWithoutPrior > 0 {
            row("no earlier owner copy", summary.routedWithoutPrior + summary.rejectedWithoutPrior,
                "\(summary.routedWithoutPrior) route, \(summary.rejectedWithoutPrior) rejected")
        }
        row(executing ? "routed" : "would route", summary.routed)
        row(executing ? "dead-lettered" : "would be rejected", summary.rejected,
            summary.rejectedByCode.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        if executing { row("outputs produced", summary.outputsProduced, "owner, cc and ops copies and dead letters") }
    }

    private static func describe(_ facts: RoutingFacts) -> String {
        "\(facts.owner) (\(facts.category)\(facts.cc.isEmpty ? "" : ", cc \(list(facts.cc))"))"
    }

    private static func list(_ regions: [String]) -> String { "[" + regions.joined(separator: ",") + "]" }
}

/// Progress on stderr: a bar with an ETA, redrawn in place, when stderr is a terminal; otherwise a
/// plain line every few seconds (logs and CI).
final class ProgressDisplay: Sendable {
    private struct State {
        var phase: ReplayProgress.Phase?
        var phaseStarted = ContinuousClock.now
        var lastShown: ContinuousClock.Instant?
        var drawn = false
    }

    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let state = Mutex(State())

    func update(_ progress: ReplayProgress) {
        let now = ContinuousClock.now
        let text: String? = state.withLock { state in
            if state.phase != progress.phase {
                state.phase = progress.phase
                state.phaseStarted = now
                state.lastShown = nil
            }
            let interval: Duration = isTerminal ? .milliseconds(200) : .seconds(5)
            let complete = progress.total.map { progress.done >= $0 } ?? false
            if let last = state.lastShown, now - last < interval, !complete { return nil }
            state.lastShown = now
            state.drawn = isTerminal
            return Self.render(progress, elapsed: now - state.phaseStarted, bar: isTerminal)
        }
        guard let text else { return }
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + text : text + "\n").utf8))
    }

    /// Ends the bar's line.
    func finish() {
        if state.withLock({ $0.drawn }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func render(_ progress: ReplayProgress, elapsed: Duration, bar: Bool) -> String {
        // Reading earlier owner copies counts records of the inboxes; the other phases count offsets.
        let unit = progress.phase == .readingPriorCopies ? "records" : "offsets"
        guard let total = progress.total, total > 0 else { return "\(progress.phase.rawValue): \(progress.done) \(unit)" }
        let fraction = min(1, Double(progress.done) / Double(total))
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // An estimate from less than a second of work says nothing.
        let eta = seconds >= 1 && progress.done > 0 && fraction < 1 ? " ETA " + clock(seconds / fraction - seconds) : ""
        let percent = String(format: "%3.0f%%", fraction * 100)
        guard bar else { return "\(progress.phase.rawValue): \(progress.done)/\(total) \(unit) (\(percent))\(eta)" }
        let width = 30
        let filled = Int(fraction * Double(width))
        return "\(progress.phase.rawValue) [" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            + "] \(percent) \(progress.done)/\(total) \(unit)\(eta)"
    }

    private static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
                             : String(format: "%d:%02d", total / 60, total % 60)
    }
}
