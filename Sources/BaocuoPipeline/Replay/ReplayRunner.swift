import BaocuoDomain
import BaocuoKafka
import Logging
import Synchronization

/// How far a replay is.
public struct ReplayProgress: Sendable {
    public enum Phase: String, Sendable {
        /// Reading the range for its report ids (ingest replays, to look up earlier owner copies).
        case collectingReportIds = "collecting report ids"
        /// Reading the inboxes for earlier owner copies.
        case readingPriorCopies = "reading earlier owner copies"
        case previewing = "previewing"
        case replaying = "replaying"
    }

    public var phase: Phase
    /// Offsets (or, reading prior copies, records) done and in all; `total` is nil when unknown.
    public var done: Int64
    public var total: Int64?
}

/// One replayed record: where it went before, where it goes now.
public struct ReplayedRecord: Sendable {
    /// `topic[partition]@offset`.
    public var source: String
    public var reportId: String?
    public var prior: PriorOutcome
    public var current: CurrentOutcome
    public var verdict: ReplayVerdict
}

/// The counts of a replay run.
public struct ReplaySummary: Sendable, Equatable {
    /// Records read inside the range.
    public var scanned = 0
    /// Records the selection took (time, report ids); the rest were skipped.
    public var selected = 0
    /// Dead letters this same run wrote earlier (a resumed re-drive), skipped.
    public var ownOutputsSkipped = 0
    public var unchanged = 0
    /// Records whose category, owner or cc list changed (each kind counted below as well).
    public var changed = 0
    public var categoryChanged = 0
    public var ownerChanged = 0
    public var ccChanged = 0
    /// Dead letters that route now.
    public var nowRouted = 0
    /// Dead letters rejected again.
    public var stillRejected = 0
    /// Routed before, rejected now.
    public var nowRejected = 0
    public var routedWithoutPrior = 0
    public var rejectedWithoutPrior = 0
    /// Records routing now (preview: would route), and rejected now, by code.
    public var routed = 0
    public var rejectedByCode: [String: Int] = [:]
    /// Records produced (owner, cc and ops copies, dead letters); 0 in a preview.
    public var outputsProduced = 0
    /// Stopped by a signal before the end of the range; the checkpoint holds what was done.
    public var interrupted = false

    public var rejected: Int { rejectedByCode.values.reduce(0, +) }

    mutating func add(_ verdict: ReplayVerdict, current: CurrentOutcome) {
        switch verdict {
        case .unchanged: unchanged += 1
        case .changed(let category, let owner, let cc):
            changed += 1
            if category { categoryChanged += 1 }
            if owner { ownerChanged += 1 }
            if cc { ccChanged += 1 }
        case .nowRouted: nowRouted += 1
        case .stillRejected: stillRejected += 1
        case .nowRejected: nowRejected += 1
        case .routedWithoutPrior: routedWithoutPrior += 1
        case .rejectedWithoutPrior: rejectedWithoutPrior += 1
        }
        switch current {
        case .routed: routed += 1
        case .rejected(let code, _): rejectedByCode[code, default: 0] += 1
        }
    }
}

/// Re-routes the records of a plan through the current rules (`baocuo replay`). A preview reads and
/// compares only; an executing run produces the outputs with provenance headers and commits its own
/// group's offsets — the checkpoint — only once every output before them is acknowledged.
public final class ReplayRunner: Sendable {
    private let options: ReplayOptions
    private let router: RecordRouter
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)

    /// `router`: the current rules; its group names the replay in dead-letter headers.
    public init(options: ReplayOptions, router: RecordRouter, logger: Logger) {
        self.options = options
        self.router = router
        self.logger = logger
    }

    /// Stops after the current batch: in-flight outputs are awaited and the checkpoint committed.
    public func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    private var stopping: Bool { stopRequested.load(ordering: .relaxed) }

    private var isDeadLetterSource: Bool { options.sourceTopic == router.topics.failuresDLQ }

    /// Replays `plan`. `onProgress` is called after every batch, `onRecord` for every selected record.
    public func run(_ plan: ReplayPlan, onProgress: @Sendable (ReplayProgress) -> Void = { _ in },
                    onRecord: @Sendable (ReplayedRecord) -> Void = { _ in }) async throws -> ReplaySummary {
        try options.validateGroup()
        var summary = ReplaySummary()
        guard plan.remaining > 0 else { return summary }
        let filter = SelectionFilter(selection: options.selection, runID: plan.runID)
        var priors: [String: RoutingFacts] = [:]
        if !isDeadLetterSource {
            let ids = try await collectReportIds(plan, filter: filter, onProgress: onProgress)
            guard !stopping else {
                summary.interrupted = true
                return summary
            }
            priors = try await priorOwnerCopies(of: ids, runID: plan.runID, onProgress: onProgress)
        }
        let pass = ReplayPass(runner: self, plan: plan, filter: filter, priors: priors)
        return try await options.execute
            ? pass.execute(onProgress: onProgress, onRecord: onRecord)
            : pass.preview(onProgress: onProgress, onRecord: onRecord)
    }

    /// The report ids of the selected records (to look up their earlier owner copies).
    private func collectReportIds(_ plan: ReplayPlan, filter: SelectionFilter,
                                  onProgress: @Sendable (ReplayProgress) -> Void) async throws -> Set<String> {
        let scanner = try RangeScanner(plan: plan, options: options, batchSize: 5000, logger: logger)
        var ids: Set<String> = []
        do {
            while !stopping, let records = try await scanner.next() {
                for message in records {
                    if case .accept(let reportId) = filter.decide(message), let reportId { ids.insert(reportId) }
                }
                onProgress(ReplayProgress(phase: .collectingReportIds, done: scanner.offsetsPassed, total: plan.remaining))
            }
        } catch {
            await scanner.close()
            throw error
        }
        await scanner.close()
        return ids
    }

    /// The latest owner copy of each report in the inboxes, ignoring this run's own copies.
    private func priorOwnerCopies(of ids: Set<String>, runID: String,
                                  onProgress: @Sendable (ReplayProgress) -> Void) async throws -> [String: RoutingFacts] {
        guard !ids.isEmpty else { return [:] }
        let reader = TopicReader(brokers: options.brokers, logger: logger, properties: options.kafkaProperties.filter { $0.key != "group.id" })
        let inboxPrefix = router.topics.prefix + "agency."
        let inboxes = try await reader.topics { $0.hasPrefix(inboxPrefix) && $0.hasSuffix(".inbox") }
        var latest: [String: (timestampMs: Int64, facts: RoutingFacts)] = [:]
        var read: Int64 = 0
        try await reader.forEachRecord(in: inboxes) { record in
            read += 1
            if read % 10_000 == 0 { onProgress(ReplayProgress(phase: .readingPriorCopies, done: read, total: nil)) }
            guard let key = record.keyString, ids.contains(key), record.header(ReplayHeader.id) != runID,
                  let facts = record.value.withUnsafeBytes({ RoutingFacts(ownerCopy: $0) }) else { return }
            let timestamp = record.timestampMs ?? 0
            if let existing = latest[key], existing.timestampMs > timestamp { return }
            latest[key] = (timestamp, facts)
        }
        onProgress(ReplayProgress(phase: .readingPriorCopies, done: read, total: read))
        return latest.mapValues(\.facts)
    }

    /// The main pass, shared by preview and execute: routes each selected record and compares.
    private struct ReplayPass {
        let runner: ReplayRunner
        let plan: ReplayPlan
        let filter: SelectionFilter
        let priors: [String: RoutingFacts]

        var options: ReplayOptions { runner.options }
        var router: RecordRouter { runner.router }

        func preview(onProgress: @Sendable (ReplayProgress) -> Void, onRecord: @Sendable (ReplayedRecord) -> Void) async throws -> ReplaySummary {
            var summary = ReplaySummary()
            let scanner = try RangeScanner(plan: plan, options: options, batchSize: options.pollBatchSize, logger: runner.logger)
            var outputs = OutputBatch()
            do {
                while !runner.stopping, let records = try await scanner.next() {
                    outputs.removeAll()
                    let provenance = ReplayProvenance(runID: plan.runID, utcOffsetSeconds: router.utcOffsetSeconds)
                    for message in records {
                        replay(message, provenance: provenance, into: &outputs, summary: &summary, onRecord: onRecord)
                    }
                    onProgress(ReplayProgress(phase: .previewing, done: scanner.offsetsPassed, total: plan.remaining))
                }
            } catch {
                await scanner.close()
                throw error
            }
            summary.interrupted = !scanner.isFinished
            await scanner.close()
            return summary
        }

        func execute(onProgress: @Sendable (ReplayProgress) -> Void, onRecord: @Sendable (ReplayedRecord) -> Void) async throws -> ReplaySummary {
            var summary = ReplaySummary()
            let batchSize = options.recordsPerSecond.map { min(options.pollBatchSize, max(1, $0 / 5)) } ?? options.pollBatchSize
            let scanner = try RangeScanner(plan: plan, options: options, batchSize: batchSize, logger: runner.logger)
            let delivery = try OutputDelivery(
                properties: OutputDelivery.producerProperties(brokers: options.brokers, clientID: "baocuo-replay-\(ProcessIdentity.hostAndPID)",
                                                              maxRecordBytes: options.maxRecordBytes, overrides: options.kafkaProperties),
                producers: 1, logger: runner.logger, metrics: RouterMetrics()
            )
            var pacer = options.recordsPerSecond.map { RatePacer(recordsPerSecond: $0) }
            var outputs = OutputBatch()
            var lastCommit = ContinuousClock.now
            var failure: Error?
            do {
                while !runner.stopping, let records = try await scanner.next() {
                    if let error = delivery.failure { throw ReplayError.deliveryFailed(error) }
                    if let wait = pacer?.wait(before: records.count) { try await Task.sleep(for: wait) }
                    let provenance = ReplayProvenance(runID: plan.runID, utcOffsetSeconds: router.utcOffsetSeconds)
                    try delivery.produce(records, outputs: &outputs) { message, outputs in
                        replay(message, provenance: provenance, into: &outputs, summary: &summary, onRecord: onRecord)
                    }
                    summary.outputsProduced += outputs.records.count
                    onProgress(ReplayProgress(phase: .replaying, done: scanner.offsetsPassed, total: plan.remaining))
                    if ContinuousClock.now - lastCommit >= options.commitInterval {
                        lastCommit = ContinuousClock.now
                        await delivery.commitFrontier(consumer: scanner.consumer, partitions: nil, timeout: RouterWorker.commitTimeout)
                    }
                }
            } catch {
                failure = error
            }
            // Interrupted, failed or done: the checkpoint moves only past acknowledged outputs.
            summary.interrupted = !scanner.isFinished
            await delivery.drain(timeout: options.drainTimeout)
            let committed = await delivery.commitFrontier(consumer: scanner.consumer, partitions: nil,
                                                          timeout: options.drainTimeout).succeeded
            await scanner.close()
            await delivery.close()
            if let failure { throw failure }
            if let error = delivery.failure { throw ReplayError.deliveryFailed(error) }
            if !committed {
                runner.logger.error("the final checkpoint commit failed: a rerun repeats the records since the last successful one")
            }
            return summary
        }

        /// Routes one record (when the selection takes it) into `outputs` and compares the outcome.
        private func replay(_ message: ConsumedMessage, provenance: ReplayProvenance, into outputs: inout OutputBatch,
                            summary: inout ReplaySummary, onRecord: (ReplayedRecord) -> Void) {
            summary.scanned += 1
            let reportId: String?
            switch filter.decide(message) {
            case .skip: return
            case .ownOutput:
                summary.ownOutputsSkipped += 1
                return
            case .accept(let id): reportId = id
            }
            summary.selected += 1
            let source = SourcePosition(topic: message.topic, partition: message.partition, offset: message.offset,
                                        timestampMs: message.timestampMs ?? WallClock.nowMilliseconds())
            let sourceText = "\(message.topic)[\(message.partition)]@\(message.offset)"
            let firstOutput = outputs.records.count
            let routeSummary = message.withKey { key in
                message.withValue { value in
                    router.route(key: key, value: value, source: source,
                                 headers: { message.headers.filter { !ReplayHeader.all.contains($0.key) } },
                                 extraHeaders: provenance.headers(source: sourceText),
                                 failedAt: { Timestamp(millisecondsSinceEpoch: WallClock.nowMilliseconds()) }, into: &outputs)
                }
            }
            let current = currentOutcome(routeSummary, outputs: outputs, from: firstOutput)
            let prior: PriorOutcome
            if runner.isDeadLetterSource {
                let code = message.header(DeadLetterHeader.errorCode).flatMap { $0.map { String(decoding: $0, as: UTF8.self) } }
                prior = .deadLettered(code: code ?? "?")
            } else {
                prior = reportId.flatMap { priors[$0] }.map(PriorOutcome.routed) ?? .unknown
            }
            let verdict = ReplayVerdict(prior: prior, current: current)
            summary.add(verdict, current: current)
            onRecord(ReplayedRecord(source: sourceText, reportId: reportId ?? current.reportId, prior: prior, current: current, verdict: verdict))
        }

        private func currentOutcome(_ routeSummary: RouteSummary, outputs: OutputBatch, from firstOutput: Int) -> CurrentOutcome {
            switch routeSummary {
            case .deadLettered(let code):
                let detail = outputs.records[firstOutput].headers.last { $0.key == DeadLetterHeader.errorDetail }?.value
                return .rejected(code: code.rawValue, detail: detail.map { String(decoding: $0, as: UTF8.self) } ?? "")
            case .routed:
                // The owner copy is always the first output of a routed record.
                let facts = outputs.withBytes(of: firstOutput) { _, value in RoutingFacts(ownerCopy: value) }
                guard let facts else { preconditionFailure("RecordRouter wrote an owner copy that is not routed v1") }
                return .routed(facts)
            }
        }
    }
}

extension CurrentOutcome {
    var reportId: String? {
        if case .routed(let facts) = self { return facts.reportId }
        return nil
    }
}

/// The provenance headers of one batch's outputs.
struct ReplayProvenance {
    let runID: String
    let at: String

    init(runID: String, utcOffsetSeconds: Int) {
        self.runID = runID
        at = Timestamp(millisecondsSinceEpoch: WallClock.nowMilliseconds()).rfc3339(utcOffsetSeconds: utcOffsetSeconds)
    }

    func headers(source: String) -> [KafkaHeader] {
        [KafkaHeader(key: ReplayHeader.id, value: runID), KafkaHeader(key: ReplayHeader.source, value: source),
         KafkaHeader(key: ReplayHeader.at, value: at)]
    }
}

/// Which records of the range the selection takes.
struct SelectionFilter: Sendable {
    enum Decision {
        case accept(reportId: String?)
        case skip
        /// A dead letter written by this same run (a resumed re-drive reads past its own outputs).
        case ownOutput
    }

    let selection: ReplaySelection
    let runID: String

    func decide(_ message: ConsumedMessage) -> Decision {
        if let id = message.header(ReplayHeader.id), id.map({ String(decoding: $0, as: UTF8.self) }) == runID {
            return .ownOutput
        }
        if case .time(let since, let until) = selection.range {
            guard let timestamp = message.timestampMs,
                  timestamp >= since.millisecondsSinceEpoch, timestamp < until.millisecondsSinceEpoch else { return .skip }
        }
        let key = message.withKey { $0.map { String(decoding: $0, as: UTF8.self) } }
        let reportId = message.withValue { ReportIdentity.reportId(in: $0) }
        if let wanted = selection.reportIds {
            guard reportId.map(wanted.contains) == true || key.map(wanted.contains) == true else { return .skip }
        }
        return .accept(reportId: reportId ?? key)
    }
}

/// Spaces batches so that records flow at `recordsPerSecond` on average.
struct RatePacer {
    let recordsPerSecond: Int
    private let started = ContinuousClock.now
    private var released = 0

    init(recordsPerSecond: Int) {
        self.recordsPerSecond = max(1, recordsPerSecond)
    }

    /// How long to wait before releasing `count` more records; nil when they may go now.
    mutating func wait(before count: Int) -> Duration? {
        let due = started + .milliseconds(Int64(released) * 1000 / Int64(recordsPerSecond))
        released += count
        let now = ContinuousClock.now
        return due > now ? due - now : nil
    }
}
