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
            what would change against the decision standing for each report (the latest owner copy in the \
            inboxes or dead letter in the DLQ): counts by kind of change, the rules versions before and \
            after, the weekly batches that will be re-emitted, then examples. With --execute the outputs \
            of the records whose routing outcome differs (category, owner, cc, ops copy, reject code) are \
            produced, and a report moved to another owner gets a baocuo.withdrawn/v1 record in the former \
            owner's inbox; --all produces the outputs of every selected record. Outputs carry \
            baocuo.replay.id, baocuo.replay.source and baocuo.replay.at headers. The run commits its own group's \
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

    @Option(
        name: .long, help: "The replay's consumer group, which holds its checkpoint (default: baocuo-replay-<topic>). Never the fleet's.")
    var group: String?

    @Flag(name: .long, help: "Produce the outputs. Without it the run is a preview: nothing is produced or committed.")
    var execute = false

    @Flag(
        name: .long,
        help: """
            With --execute: produce the outputs of every selected record, not only of those whose routing changed \
            (records rejected again are dead-lettered again).
            """)
    var all = false

    @Flag(name: .long, help: "Print one JSON object per changed record on stdout (the plan and the summary go to stderr).")
    var json = false

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
        if all, !execute { throw ValidationError("--all re-emits outputs: use it with --execute") }
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
            selection: try selection(), execute: execute, reEmitAll: all, recordsPerSecond: rate, restart: restart,
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
        let out = ReplayPrinter(maxDetails: maxDetails, executing: execute, json: json)
        out.describe(plan, options: options)
        guard plan.remaining > 0 else {
            out.line(
                plan.partitions.isEmpty
                    ? "nothing to replay: the range holds no records"
                    : "nothing left to replay: group \(plan.group) has already replayed this range "
                        + "(--restart starts it over)")
            return
        }
        let runner = ReplayRunner(
            options: options, router: RecordRouter(configuration: configuration, group: options.group), logger: logger)
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
        out.printExamples()
        if summary.interrupted {
            out.line(
                execute
                    ? "interrupted: the checkpoint is committed; run the same command again to continue"
                    : "interrupted: a preview commits nothing")
            throw ExitCode(3)
        }
    }

    private func selection() throws -> ReplaySelection {
        var ids: Set<String>?
        if let reportIds {
            guard let data = FileManager.default.contents(atPath: reportIds) else { throw RuntimeError("cannot read \(reportIds)") }
            ids = Set(
                String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            if ids?.isEmpty == true { throw ValidationError("\(reportIds) lists no report id") }
        }
        if let since, let until {
            guard let start = Timestamp.parseRFC3339(since) else {
                throw ValidationError("--since: not an RFC 3339 time with an offset: \(since)")
            }
            guard let end = Timestamp.parseRFC3339(until) else {
                throw ValidationError("--until: not an RFC 3339 time with an offset: \(until)")
            }
            guard start < end else { throw ValidationError("--since must be before --until") }
            return ReplaySelection(range: .time(since: start, until: end), reportIds: ids)
        }
        if partition != nil || startOffset != nil || endOffset != nil {
            return ReplaySelection(range: .offsets(partition: partition, start: startOffset, end: endOffset), reportIds: ids)
        }
        return ReplaySelection(range: .all, reportIds: ids)
    }
}

/// The replay's stdout: the plan, the summary (counts by kind of change, rules versions, batches
/// to re-emit), then examples of the changed records (up to a limit); with `--json`, one JSON
/// object per changed record on stdout and the rest on stderr. Every line passes the person-ID
/// redactor, although nothing printed is meant to hold one.
final class ReplayPrinter: Sendable {
    private let maxDetails: Int
    private let executing: Bool
    private let json: Bool
    private let examples = Mutex<(lines: [String], more: Int)>(([], 0))

    init(maxDetails: Int, executing: Bool, json: Bool = false) {
        self.maxDetails = maxDetails
        self.executing = executing
        self.json = json
    }

    /// A result line: stdout, or stderr under `--json` (stdout then holds the JSON lines alone).
    func line(_ text: String) {
        let handle = json ? FileHandle.standardError : FileHandle.standardOutput
        handle.write(Data((PersonIDRedactor.redact(text) + "\n").utf8))
    }

    /// A remark on stderr, apart from the results.
    func note(_ text: String) {
        FileHandle.standardError.write(Data(("baocuo: " + PersonIDRedactor.redact(text) + "\n").utf8))
    }

    func describe(_ plan: ReplayPlan, options: ReplayOptions) {
        line("replay \(plan.runID): \(plan.topic) → current rules, group \(plan.group)")
        let produced = options.reEmitAll ? "every selected record (--all)" : "the changed records"
        line(
            executing
                ? "mode   EXECUTE: the outputs of \(produced) are produced; the checkpoint is committed as they are acknowledged"
                : "mode   PREVIEW: nothing is produced or committed (add --execute to replay)")
        if plan.timeLookup == .scanFallback {
            line(
                "time   the broker's offsetsForTimes answers are not real lookups (librdkafka's mock answers \"end\", "
                    + "tansu the first offset, for every time): scanning whole partitions and filtering on record timestamps")
        } else if plan.timeLookup == .offsetsForTimes {
            line("time   the broker's offsetsForTimes found each partition's range")
        }
        for range in plan.partitions {
            let resumed = range.isResumed ? " — resuming at \(range.from) from the group's checkpoint" : ""
            line("range  \(plan.topic)[\(range.partition)] offsets \(range.start)..<\(range.end)\(resumed)")
        }
    }

    /// Keeps an example of each changed record (printed after the summary), or prints its JSON line.
    func record(_ record: ReplayedRecord) {
        guard record.verdict.isChange else { return }
        if json {
            FileHandle.standardOutput.write(Data((PersonIDRedactor.redact(Self.jsonLine(record)) + "\n").utf8))
            return
        }
        let text = Self.describe(record, executing: executing)
        examples.withLock { examples in
            if examples.lines.count < maxDetails { examples.lines.append(text) } else { examples.more += 1 }
        }
    }

    func printExamples() {
        guard !json else { return }
        let (lines, more) = examples.withLock { $0 }
        guard !lines.isEmpty else { return }
        line("changes\(more > 0 ? " (first \(lines.count); \(more) more only counted, --max-details)" : "")")
        for text in lines { line(text) }
    }

    static func describe(_ record: ReplayedRecord, executing: Bool) -> String {
        let subject = "\(record.reportId ?? "(no reportId)") \(record.source)"
        let routes = executing ? "routed" : "would route"
        switch (record.verdict, record.prior, record.current) {
        case (.changed, .routed(let before), .routed(let now)):
            var parts: [String] = []
            if before.category != now.category { parts.append("category \(before.category) → \(now.category)") }
            if before.owner != now.owner {
                parts.append(
                    "owner \(before.owner) → \(now.owner) (\(before.owner) \(executing ? "gets" : "would get") baocuo.withdrawn/v1)")
            }
            if before.cc != now.cc { parts.append("cc \(list(before.cc)) → \(list(now.cc))") }
            if before.ops != now.ops { parts.append(now.ops ? "ops copy added" : "ops copy dropped") }
            return "CHANGED  \(subject): \(parts.joined(separator: "; "))"
        case (.nowRouted, .deadLettered(let code), .routed(let now)):
            return "ROUTES   \(subject): \(executing ? "routed" : "would now route") to \(describe(now)); was rejected \(code)"
        case (.rejectedDifferently(let was), _, .rejected(let code, let detail)):
            return "REJECTED \(subject): now rejected \(code) (\(detail)); was rejected \(was)"
        case (.nowRejected, .routed(let before), .rejected(let code, let detail)):
            return "REJECTED \(subject): now rejected: \(code) (\(detail)); was routed to \(describe(before)) and stays in its batches"
        case (.routedWithoutPrior, _, .routed(let now)):
            return "NEW      \(subject): \(routes) to \(describe(now)); no earlier decision found"
        case (.rejectedWithoutPrior, _, .rejected(let code, let detail)):
            return "REJECTED \(subject): rejected: \(code) (\(detail)); no earlier decision found"
        default:
            return "CHANGED  \(subject)"
        }
    }

    /// `{"reportId","source","changes":[…],"before":…,"after":…,"withdrawn":…,"batches":[…]}` on one line.
    static func jsonLine(_ record: ReplayedRecord) -> String {
        let line = ReplayJSONLine(record: record, changes: changeKinds(record.verdict))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(line) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func changeKinds(_ verdict: ReplayVerdict) -> [String] {
        switch verdict {
        case .changed(let category, let owner, let cc, let ops):
            [category ? "category" : nil, owner ? "owner" : nil, cc ? "cc" : nil, ops ? "ops" : nil].compactMap { $0 }
        case .nowRouted: ["now-routed"]
        case .rejectedDifferently: ["reject-code"]
        case .nowRejected: ["now-rejected"]
        case .routedWithoutPrior, .rejectedWithoutPrior: ["no-earlier-decision"]
        case .unchanged, .stillRejected: []
        }
    }

    func summarize(_ summary: ReplaySummary) {
        line("summary\(executing ? "" : " (preview: nothing was produced)")")
        func row(_ label: String, _ value: Int, _ detail: String = "", indent: Int = 2) {
            let number = String(value)
            line(
                String(repeating: " ", count: indent) + label.padding(toLength: 24 - indent, withPad: " ", startingAt: 0)
                    + String(repeating: " ", count: max(0, 8 - number.count)) + number + (detail.isEmpty ? "" : "  " + detail))
        }
        row("scanned", summary.scanned, "records in the range")
        row(
            "selected", summary.selected,
            summary.scanned > summary.selected ? "\(summary.scanned - summary.selected) skipped by the selection" : "")
        if summary.ownOutputsSkipped > 0 { row("own dead letters", summary.ownOutputsSkipped, "written earlier by this run, skipped") }
        row("changes", summary.changes, "routing outcome differs from the standing decision")
        let kinds: [(String, Int, String)] = [
            ("category", summary.categoryChanged, ""),
            (
                "owner", summary.ownerChanged,
                summary.withdrawals > 0 ? "baocuo.withdrawn/v1 to the former owner: \(summary.withdrawals)" : ""
            ),
            ("cc", summary.ccChanged, ""), ("ops copy", summary.opsChanged, ""),
            ("reject code", summary.rejectCodeChanged, ""), ("dead letters routing", summary.nowRouted, ""),
            ("newly rejected", summary.nowRejected, ""),
            (
                "no earlier decision", summary.routedWithoutPrior + summary.rejectedWithoutPrior,
                summary.routedWithoutPrior + summary.rejectedWithoutPrior > 0
                    ? "\(summary.routedWithoutPrior) route, \(summary.rejectedWithoutPrior) rejected" : ""
            ),
        ]
        for (label, value, detail) in kinds where value > 0 { row(label, value, detail, indent: 4) }
        row("unchanged", summary.unchanged, "routed as before")
        row(
            "still rejected", summary.stillRejected,
            summary.stillRejected > 0 ? "same code as the dead letter: not dead-lettered again" : "")
        row(executing ? "routed" : "would route", summary.routed)
        row(
            executing ? "rejected" : "would be rejected", summary.rejected,
            summary.rejectedByCode.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        if executing { row("outputs produced", summary.outputsProduced, "owner, cc and ops copies, dead letters, withdrawals") }
        let before = summary.rulesVersionsBefore.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) (\($0.value) record\($0.value == 1 ? "" : "s"))" }
        let rulesBefore = before.isEmpty ? "none (no earlier owner copy)" : before.joined(separator: ", ")
        line("rules  before: \(rulesBefore); after: \(summary.rulesVersionAfter)")
        let batches = summary.batchesToReEmit.sorted()
        if batches.isEmpty {
            line("batches none to re-emit")
        } else {
            line(
                "batches \(batches.count) to re-emit as new revisions\(executing ? "" : " once executed") (the next scheduler tick "
                    + "within its look-back window; older weeks: baocuo batch intake|return --week W): \(batches.joined(separator: ", "))")
        }
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
        let seconds = elapsed.inSeconds
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
        return total >= 3600
            ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }
}

/// One line of `replay --json`. Absent values are written as `null`, not left out, so that every
/// line has the same keys (`withdrawn` only where a report moved owner).
struct ReplayJSONLine: Encodable {
    /// A routing decision, before or after.
    struct Routing: Encodable {
        var category: String
        var owner: String
        var cc: [String]
        var ops: Bool
        var rulesVersion: String?
        var intakeBatch: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(category, forKey: .category)
            try container.encode(owner, forKey: .owner)
            try container.encode(cc, forKey: .cc)
            try container.encode(ops, forKey: .ops)
            try container.encode(rulesVersion, forKey: .rulesVersion)
            try container.encode(intakeBatch, forKey: .intakeBatch)
        }

        private enum CodingKeys: String, CodingKey { case category, owner, cc, ops, rulesVersion, intakeBatch }
    }

    /// A decision: routed, or rejected with its code (and the detail, for the current one).
    enum Decision: Encodable {
        case routed(Routing)
        case rejected(code: String, detail: String?)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .routed(let routing): try routing.encode(to: encoder)
            case .rejected(let code, let detail):
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(code, forKey: .rejected)
                try container.encodeIfPresent(detail, forKey: .detail)
            }
        }

        private enum CodingKeys: String, CodingKey { case rejected, detail }
    }

    var reportId: String?
    var source: String
    var changes: [String]
    var batches: [String]
    var before: Decision?
    var after: Decision
    var withdrawn: String?

    init(record: ReplayedRecord, changes: [String]) {
        func routing(_ facts: RoutingFacts) -> Routing {
            Routing(
                category: facts.category, owner: facts.owner, cc: facts.cc, ops: facts.ops, rulesVersion: facts.rulesVersion,
                intakeBatch: facts.intakeBatch)
        }
        reportId = record.reportId
        source = record.source
        self.changes = changes
        batches = record.affectedBatches
        switch record.prior {
        case .routed(let facts): before = .routed(routing(facts))
        case .deadLettered(let code): before = .rejected(code: code, detail: nil)
        case .unknown: before = nil
        }
        switch record.current {
        case .routed(let facts): after = .routed(routing(facts))
        case .rejected(let code, let detail): after = .rejected(code: code, detail: detail)
        }
        withdrawn = record.withdrawn.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(reportId, forKey: .reportId)
        try container.encode(source, forKey: .source)
        try container.encode(changes, forKey: .changes)
        try container.encode(batches, forKey: .batches)
        try container.encode(before, forKey: .before)
        try container.encode(after, forKey: .after)
        try container.encodeIfPresent(withdrawn, forKey: .withdrawn)
    }

    private enum CodingKeys: String, CodingKey { case reportId, source, changes, batches, before, after, withdrawn }
}
