import BaocuoDomain
import BaocuoKafka
import Logging
import Synchronization

/// How far a replay is.
public struct ReplayProgress: Sendable {
    /// What the replay is doing; the raw value is shown to the operator.
    public enum Phase: String, Sendable {
        /// Reading the range for its report ids (ingest replays, to look up earlier owner copies).
        case collectingReportIds = "collecting report ids"
        /// Reading the inboxes for earlier owner copies.
        case readingPriorCopies = "reading earlier owner copies"
        /// Routing the range without producing (no `--execute`).
        case previewing = "previewing"
        /// Routing the range and producing the outputs (`--execute`).
        case replaying = "replaying"
    }

    /// The current phase.
    public var phase: Phase
    /// Offsets (or, reading prior copies, records) done and in all; `total` is nil when unknown.
    public var done: Int64
    /// The offsets or records in all; nil when unknown.
    public var total: Int64?
}

/// One replayed record: where it went before, where it goes now.
public struct ReplayedRecord: Sendable {
    /// `topic[partition]@offset`.
    public var source: String
    /// The report's `reportId` as the record gives it, else as routed now; nil when neither tells.
    public var reportId: String?
    /// How the report was routed before: an earlier owner copy, a dead letter, or nothing found.
    public var prior: PriorOutcome
    /// How it routes now.
    public var current: CurrentOutcome
    /// How the two compare.
    public var verdict: ReplayVerdict
    /// The withdrawal written (preview: that would be written) for the former owner.
    public var withdrawn: WithdrawnRecord?
    /// The weekly batches the change alters (see `ReplaySummary.batchesToReEmit`), sorted.
    public var affectedBatches: [String] = []
}

/// The counts of a replay run.
public struct ReplaySummary: Sendable, Equatable {
    /// Records read inside the range.
    public var scanned = 0
    /// Records the selection took (time, report ids); the rest were skipped.
    public var selected = 0
    /// Dead letters this same run wrote earlier (a resumed re-drive), skipped.
    public var ownOutputsSkipped = 0
    /// Routed before and now the same way.
    public var unchanged = 0
    /// Records whose category, owner, cc list or ops copy changed (each kind counted below as well).
    public var changed = 0
    /// Changed records whose category changed.
    public var categoryChanged = 0
    /// Changed records whose owner changed.
    public var ownerChanged = 0
    /// Changed records whose cc list changed.
    public var ccChanged = 0
    /// Changed records whose ops copy changed.
    public var opsChanged = 0
    /// Dead letters that route now.
    public var nowRouted = 0
    /// Dead-lettered before and now with the same code: not dead-lettered again.
    public var stillRejected = 0
    /// Dead-lettered before and now with another code.
    public var rejectCodeChanged = 0
    /// Routed before, rejected now.
    public var nowRejected = 0
    /// Records with no earlier owner copy or dead letter that route now.
    public var routedWithoutPrior = 0
    /// Records with no earlier owner copy or dead letter that are rejected now.
    public var rejectedWithoutPrior = 0
    /// Records routing now (preview: would route), and rejected now, by code.
    public var routed = 0
    /// Records rejected now, by reject code (raw value).
    public var rejectedByCode: [String: Int] = [:]
    /// Records produced (owner, cc and ops copies, dead letters, withdrawals); 0 in a preview.
    public var outputsProduced = 0
    /// `baocuo.withdrawn/v1` records for former owners (a preview counts those it would write).
    public var withdrawals = 0
    /// The rules versions of the standing decisions the selected records were compared with, and
    /// how many records each decided.
    public var rulesVersionsBefore: [String: Int] = [:]
    /// The rules version of this run.
    public var rulesVersionAfter = ""
    /// The weekly batches whose content the changes alter (intake and return of the report's intake
    /// week, for the former and the new owner): re-emitted as new revisions by the next scheduler
    /// tick within its look-back window, or by `baocuo batch`.
    public var batchesToReEmit: Set<String> = []
    /// Stopped by a signal before the end of the range; the checkpoint holds what was done.
    public var interrupted = false

    /// Records rejected now, all codes together.
    public var rejected: Int { rejectedByCode.values.reduce(0, +) }

    /// Records whose routing outcome differs from the standing decision.
    public var changes: Int { changed + nowRouted + rejectCodeChanged + nowRejected + routedWithoutPrior + rejectedWithoutPrior }

    mutating func add(_ verdict: ReplayVerdict, current: CurrentOutcome) {
        switch verdict {
        case .unchanged: unchanged += 1
        case .changed(let category, let owner, let cc, let ops):
            changed += 1
            if category { categoryChanged += 1 }
            if owner { ownerChanged += 1 }
            if cc { ccChanged += 1 }
            if ops { opsChanged += 1 }
        case .nowRouted: nowRouted += 1
        case .stillRejected: stillRejected += 1
        case .rejectedDifferently: rejectCodeChanged += 1
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

/// The weekly batches a change alters (`ReplaySummary.batchesToReEmit`): the intake and return of
/// the report's intake week (the first receipt's, which the change keeps) for the owner before and
/// after. A cc or ops change alters no batch; a report rejected now stays in its owner's batches.
enum AffectedBatches {
    static func of(prior: PriorOutcome, current: CurrentOutcome, verdict: ReplayVerdict) -> [String] {
        var owners: [String] = []
        var week: String?
        if case .routed(let before) = prior {
            week = before.intakeBatch
            if case .changed(let category, let owner, _, _) = verdict, category || owner { owners.append(before.owner) }
        }
        if case .routed(let now) = current {
            week = week ?? now.intakeBatch
            switch verdict {
            case .changed(let category, let owner, _, _) where category || owner: owners.append(now.owner)
            case .nowRouted, .routedWithoutPrior: owners.append(now.owner)
            default: break
            }
        }
        guard let week, !owners.isEmpty else { return [] }
        var ids: [String] = []
        for owner in Set(owners) {
            ids.append("intake-\(owner)-\(week)")
            ids.append("return-\(owner.prefix(2))0000-\(week)")
        }
        return ids
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
    public func run(
        _ plan: ReplayPlan, onProgress: @Sendable (ReplayProgress) -> Void = { _ in },
        onRecord: @Sendable (ReplayedRecord) -> Void = { _ in }
    ) async throws -> ReplaySummary {
        try options.validateGroup()
        var summary = ReplaySummary()
        guard plan.remaining > 0 else { return summary }
        let filter = SelectionFilter(selection: options.selection, runID: plan.runID)
        let ids = try await collectReportIds(plan, filter: filter, onProgress: onProgress)
        guard !stopping else {
            summary.interrupted = true
            return summary
        }
        let (priors, bySource) = try await standingDecisions(of: ids, onProgress: onProgress)
        let pass = ReplayPass(runner: self, plan: plan, filter: filter, priors: priors, deadLettersBySource: bySource)
        return try await options.execute
            ? pass.execute(onProgress: onProgress, onRecord: onRecord)
            : pass.preview(onProgress: onProgress, onRecord: onRecord)
    }

    /// The report ids of the selected records (to look up their earlier owner copies).
    private func collectReportIds(
        _ plan: ReplayPlan, filter: SelectionFilter,
        onProgress: @Sendable (ReplayProgress) -> Void
    ) async throws -> Set<String> {
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

    /// The decision that stands for each report: the latest made among its owner copies in the
    /// inboxes (made when produced: the record timestamp) and its dead letters in the DLQ (made at
    /// `baocuo.failed.at`, to the second; they keep the source's timestamp). A replay's own earlier
    /// outputs count like any other decision, so replaying the same range again changes nothing.
    /// Also returns the dead letters of source records without a report id, by `topic[partition]@offset`.
    private func standingDecisions(of ids: Set<String>, onProgress: @Sendable (ReplayProgress) -> Void) async throws
        -> (byReport: [String: PriorOutcome], bySource: [String: PriorOutcome])
    {
        let reader = TopicReader(brokers: options.brokers, logger: logger, properties: options.consumerOverrides)
        let names = router.topics
        let topics = try await reader.topics { names.isInbox($0) || $0 == names.failuresDLQ }
        var latest: [String: (at: Int64, position: RecordPosition, outcome: PriorOutcome)] = [:]
        var bySource: [String: PriorOutcome] = [:]
        var read: Int64 = 0
        try await reader.forEachRecord(in: topics) { record in
            read += 1
            if read % 10_000 == 0 { onProgress(ReplayProgress(phase: .readingPriorCopies, done: read, total: nil)) }
            let reportId: String
            let at: Int64
            let outcome: PriorOutcome
            if record.topic == names.failuresDLQ {
                guard let code = record.header(DeadLetterHeader.errorCode) else { return }
                guard let id = record.value.withUnsafeBytes({ ReportIdentity.reportId(in: $0) }) ?? record.keyString else {
                    if record.header(DeadLetterHeader.sourceTopic) == options.sourceTopic,
                        let partition = record.header(DeadLetterHeader.sourcePartition),
                        let offset = record.header(DeadLetterHeader.sourceOffset)
                    {
                        bySource["\(options.sourceTopic)[\(partition)]@\(offset)"] = .deadLettered(code: code)
                    }
                    return
                }
                guard ids.contains(id) else { return }
                reportId = id
                at =
                    record.header(DeadLetterHeader.failedAt).flatMap(Timestamp.parseRFC3339)?.millisecondsSinceEpoch ?? record.timestampMs
                    ?? 0
                outcome = .deadLettered(code: code)
            } else {
                guard let key = record.keyString, ids.contains(key),
                    let facts = record.value.withUnsafeBytes({ RoutingFacts(ownerCopy: $0) })
                else { return }
                reportId = key
                at = record.timestampMs ?? 0
                outcome = .routed(facts)
            }
            if let existing = latest[reportId], (existing.at, existing.position) > (at, record.position) { return }
            latest[reportId] = (at, record.position, outcome)
        }
        onProgress(ReplayProgress(phase: .readingPriorCopies, done: read, total: read))
        return (latest.mapValues(\.outcome), bySource)
    }

    /// The main pass, shared by preview and execute: routes each selected record and compares.
    private struct ReplayPass {
        let runner: ReplayRunner
        let plan: ReplayPlan
        let filter: SelectionFilter
        let priors: [String: PriorOutcome]
        let deadLettersBySource: [String: PriorOutcome]

        var options: ReplayOptions { runner.options }
        var router: RecordRouter { runner.router }

        func preview(onProgress: @Sendable (ReplayProgress) -> Void, onRecord: @Sendable (ReplayedRecord) -> Void) async throws
            -> ReplaySummary
        {
            var summary = ReplaySummary()
            summary.rulesVersionAfter = router.encoder.rulesVersion
            var standing = priors
            let scanner = try RangeScanner(plan: plan, options: options, batchSize: options.pollBatchSize, logger: runner.logger)
            var outputs = OutputBatch()
            do {
                while !runner.stopping, let records = try await scanner.next() {
                    outputs.removeAll()
                    let provenance = ReplayProvenance(runID: plan.runID, utcOffsetSeconds: router.utcOffsetSeconds)
                    for message in records {
                        replay(message, provenance: provenance, into: &outputs, standing: &standing, summary: &summary, onRecord: onRecord)
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

        func execute(onProgress: @Sendable (ReplayProgress) -> Void, onRecord: @Sendable (ReplayedRecord) -> Void) async throws
            -> ReplaySummary
        {
            var summary = ReplaySummary()
            summary.rulesVersionAfter = router.encoder.rulesVersion
            var standing = priors
            let batchSize = options.recordsPerSecond.map { min(options.pollBatchSize, max(1, $0 / 5)) } ?? options.pollBatchSize
            let scanner = try RangeScanner(plan: plan, options: options, batchSize: batchSize, logger: runner.logger)
            let delivery = try OutputDelivery(
                configuration: OutputDelivery.producerConfiguration(
                    brokers: options.brokers, clientID: "baocuo-replay-\(ProcessIdentity.hostAndPID)",
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
                        replay(message, provenance: provenance, into: &outputs, standing: &standing, summary: &summary, onRecord: onRecord)
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
            let committed = await delivery.commitFrontier(
                consumer: scanner.consumer, partitions: nil,
                timeout: options.drainTimeout
            ).succeeded
            await scanner.close()
            await delivery.close()
            if let failure { throw failure }
            if let error = delivery.failure { throw ReplayError.deliveryFailed(error) }
            if !committed {
                runner.logger.error("the final checkpoint commit failed: a rerun repeats the records since the last successful one")
            }
            return summary
        }

        /// Routes one record (when the selection takes it) into `outputs` and compares the outcome
        /// with the decision standing for its report. Only a change keeps its outputs (all of them
        /// with `--all`); a change of owner adds a `baocuo.withdrawn/v1` record for the former owner.
        /// The new outcome then stands for later records of the same report in the run.
        private func replay(
            _ message: ConsumedMessage, provenance: ReplayProvenance, into outputs: inout OutputBatch,
            standing: inout [String: PriorOutcome], summary: inout ReplaySummary,
            onRecord: (ReplayedRecord) -> Void
        ) {
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
            let source = SourcePosition(
                topic: message.topic, partition: message.partition, offset: message.offset,
                timestampMs: message.timestampMs ?? WallClock.nowMilliseconds())
            let sourceText = "\(message.topic)[\(message.partition)]@\(message.offset)"
            let firstOutput = outputs.records.count
            let routeSummary = message.withKey { key in
                message.withValue { value in
                    router.route(
                        key: key, value: value, source: source,
                        headers: { message.headers.filter { !ReplayHeader.all.contains($0.key) } },
                        extraHeaders: provenance.headers(source: sourceText),
                        failedAt: { Timestamp(millisecondsSinceEpoch: WallClock.nowMilliseconds()) }, into: &outputs)
                }
            }
            let current = currentOutcome(routeSummary, outputs: outputs, from: firstOutput)
            let id = reportId ?? current.reportId
            let ownCode =
                runner.isDeadLetterSource
                ? message.header(DeadLetterHeader.errorCode).flatMap { $0.map { String(decoding: $0, as: UTF8.self) } } : nil
            let prior =
                id.flatMap { standing[$0] } ?? ownCode.map { .deadLettered(code: $0) } ?? deadLettersBySource[sourceText] ?? .unknown
            if case .routed(let before) = prior { summary.rulesVersionsBefore[before.rulesVersion ?? "unknown", default: 0] += 1 }
            let verdict = ReplayVerdict(prior: prior, current: current)
            summary.add(verdict, current: current)
            var withdrawn: WithdrawnRecord?
            let affected = verdict.isChange ? AffectedBatches.of(prior: prior, current: current, verdict: verdict).sorted() : []
            if verdict.isChange || options.reEmitAll {
                summary.batchesToReEmit.formUnion(affected)
                if case .routed(let before) = prior, case .routed(let now) = current, before.owner != now.owner {
                    let record = WithdrawnRecord(
                        reportId: now.reportId, formerOwner: before.owner, newOwner: now.owner, category: now.category,
                        rulesVersionBefore: before.rulesVersion ?? "", rulesVersionAfter: now.rulesVersion ?? "",
                        replayId: provenance.runID, withdrawnAt: provenance.at)
                    var key = now.reportId
                    key.withUTF8 { keyBytes in
                        outputs.append(
                            topic: router.topics.inbox(region: before.owner), destination: router.inboxDestination(region: before.owner),
                            key: UnsafeRawBufferPointer(keyBytes), headers: provenance.headers(source: sourceText)
                        ) {
                            record.append(to: &$0)
                        }
                    }
                    summary.withdrawals += 1
                    withdrawn = record
                }
                if let id {
                    switch current {
                    case .routed(let now): standing[id] = .routed(now)
                    case .rejected(let code, _): standing[id] = .deadLettered(code: code)
                    }
                }
            } else {
                outputs.removeRecords(from: firstOutput)
            }
            onRecord(
                ReplayedRecord(
                    source: sourceText, reportId: id, prior: prior, current: current, verdict: verdict,
                    withdrawn: withdrawn, affectedBatches: affected))
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
        [
            KafkaHeader(key: ReplayHeader.id, value: runID), KafkaHeader(key: ReplayHeader.source, value: source),
            KafkaHeader(key: ReplayHeader.at, value: at),
        ]
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
                timestamp >= since.millisecondsSinceEpoch, timestamp < until.millisecondsSinceEpoch
            else { return .skip }
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
