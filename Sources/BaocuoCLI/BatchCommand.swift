import ArgumentParser
import BaocuoDomain
import BaocuoPipeline
import Foundation
import Logging

/// `baocuo batch`: operator access to the weekly intake and return batches.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Rebuild, re-emit and inspect the weekly intake and return batches.",
        discussion: """
            Batches are rebuilt from what Kafka holds (agency inboxes, resolutions) and the calendar, so a \
            rebuild gives the emitted batch exactly, unless data arrived since (then it is the next revision).
            """,
        subcommands: [BatchIntakeCommand.self, BatchReturnCommand.self, BatchStatusCommand.self]
    )
}

/// Options every `baocuo batch` subcommand takes.
struct BatchOptions: ParsableArguments {
    @Option(
        name: .long, help: "ISO week, YYYY-Www (e.g. 2026-W49).",
        transform: { text in
            guard let week = IsoWeek(text) else { throw ValidationError("--week: expected YYYY-Www, e.g. 2026-W49") }
            return week
        })
    var week: IsoWeek

    @OptionGroup var brokerOptions: BrokerOptions

    @Flag(name: .long, help: "Print JSON for scripts instead of tables.")
    var json = false

    @OptionGroup var configOptions: ConfigOptions

    /// The batches and markers the cluster holds; a failure names the brokers.
    func snapshot(_ operations: WeeklyOperations) async throws -> WeeklySnapshot {
        do {
            return try await operations.snapshot()
        } catch {
            throw RuntimeError("cannot read the batches from \(operations.emitter.brokers): \(error)")
        }
    }

    /// Loads the configuration and connects the operations to the brokers.
    func operations() throws -> (WeeklyOperations, DomainConfiguration) {
        let configuration = try configOptions.load()
        let settings = configuration.settings
        let logger = LoggingSetup.bootstrap(settings: settings, label: "baocuo.batch", level: .warning)
        let brokers = try brokerOptions.resolve(settings)
        return (
            WeeklyOperations(
                configuration: configuration, brokers: brokers, kafkaProperties: settings.kafka.properties,
                logger: logger), configuration
        )
    }
}

struct BatchIntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Rebuild a week's intake batches (every region, or one) and re-emit them."
    )

    @OptionGroup var options: BatchOptions

    @Option(name: .long, help: "Only this pooling region's batch.")
    var region: String?

    @Flag(name: .long, help: "Print the rebuilt batches without emitting them.")
    var dryRun = false

    func run() async throws {
        try await BatchRebuild(kind: .intake, scope: region, dryRun: dryRun, options: options).run()
    }
}

struct BatchReturnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "return",
        abstract: "Rebuild a week's return batches (every province, or one) and re-emit them."
    )

    @OptionGroup var options: BatchOptions

    @Option(name: .long, help: "Only this province's batch (XX0000).")
    var province: String?

    @Flag(name: .long, help: "Print the rebuilt batches without emitting them.")
    var dryRun = false

    func run() async throws {
        try await BatchRebuild(kind: .return, scope: province, dryRun: dryRun, options: options).run()
    }
}

/// `batch intake` and `batch return`: rebuild, then emit or print.
struct BatchRebuild {
    let kind: BatchKind
    let scope: String?
    let dryRun: Bool
    let options: BatchOptions

    func run() async throws {
        let (operations, configuration) = try options.operations()
        let snapshot = try await options.snapshot(operations)
        let emissions: [PlannedEmission]
        do {
            emissions = try operations.rebuild(kind, week: options.week, scope: scope, snapshot: snapshot)
        } catch {
            throw ValidationError("\(error)")
        }
        if !dryRun {
            _ = try await operations.emitter.emit(emissions, emittedAt: SystemClock().now())
        }
        if options.json {
            // The records exactly as emitted (or as an emission would write them), one per line.
            for emission in emissions {
                for record in operations.emitter.records(of: emission) { print(String(decoding: record.value, as: UTF8.self)) }
            }
            return
        }
        let utcOffset = configuration.settings.schedule.utcOffsetSeconds
        let cycle = emissions[0].batch.cycle
        let out = DemoPrinter()
        let items = emissions.reduce(0) { $0 + $1.batch.itemCount }
        out.line(
            "\(kind.rawValue) \(cycle.week): intake \(cycle.intakeAt.rfc3339(utcOffsetSeconds: utcOffset)), "
                + "due \(cycle.dueBy.rfc3339(utcOffsetSeconds: utcOffset))")
        let destination = emissions.count == 1 ? operations.emitter.topic(of: emissions[0].batch) : "their topics"
        out.line(
            "\(emissions.count) batches, \(items) items — "
                + (dryRun ? "dry run, nothing emitted" : "emitted to \(destination) with markers"))
        BatchTable.print(emissions, to: out)
    }
}

/// The human-readable table of rebuilt or emitted batches; batches without items are counted, not listed.
enum BatchTable {
    static func print(_ emissions: [PlannedEmission], to out: DemoPrinter) {
        let listed = emissions.filter { $0.batch.itemCount > 0 || emissions.count == 1 }
        guard let first = listed.first else {
            out.line("  every batch is empty (each has its manifest with itemCount 0)")
            return
        }
        let isReturn = first.batch.kind == .return
        let header = ["batch", "rev", "items"] + (isReturn ? ["current", "carried", "outcomes"] : ["categories"]) + ["digest"]
        out.table(
            header,
            listed.map { emission in
                let batch = emission.batch
                var row = [batch.batchId, "\(emission.revision)", "\(batch.itemCount)"]
                if case .return(let items) = batch.content {
                    let carried = items.count { $0.overdue }
                    let outcomes = Dictionary(grouping: items, by: \.outcome).map { "\($0.key) \($0.value.count)" }.sorted()
                    row += ["\(items.count - carried)", "\(carried)", outcomes.joined(separator: ", ")]
                } else {
                    row.append(batch.categoryCounts.map { "\($0.category.rawValue) \($0.count)" }.joined(separator: ", "))
                }
                return row + [String(batch.digest.prefix(12))]
            })
        let empty = emissions.count - listed.count
        if empty > 0 { out.line("  … and \(empty) more with no items (each has its manifest with itemCount 0)") }
    }
}

struct BatchStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "What was emitted for a week, what is missing or outdated, and what is outstanding and overdue.",
        discussion: """
            Exit status: 0 when every batch past its due time is emitted (batches not due yet do not count); \
            1 when the intake batches (due at the intake instant) or the return batches (due at the deadline) \
            are not all emitted although the due time plus the grace has passed — the same condition as the \
            gauge baocuo_batch_deadline_missed; 2 when the cluster cannot be read; 64 usage.
            """
    )

    @OptionGroup var options: BatchOptions

    @Option(
        name: .long,
        help: "Seconds after a due time before a batch not emitted counts as missed (default: scheduler.deadlineGraceSeconds, 600).")
    var deadlineGraceSeconds: Int?

    @Option(name: .long, help: .hidden)  // tests: the instant the status is judged at (RFC 3339)
    var now: String?

    func run() async throws {
        let (operations, configuration) = try options.operations()
        let snapshot = try await options.snapshot(operations)
        let instant =
            try now.map { text in
                guard let instant = Timestamp.parseRFC3339(text) else { throw ValidationError("--now: expected RFC 3339") }
                return instant
            } ?? SystemClock().now()
        let status: WeekStatus
        do {
            status = try operations.status(week: options.week, snapshot: snapshot, now: instant)
        } catch {
            throw ValidationError("\(error)")
        }
        let graceMs = Int64(deadlineGraceSeconds ?? configuration.settings.scheduler.deadlineGraceSeconds) * 1000
        let missed = status.missedDeadlines(now: instant, graceMilliseconds: graceMs)
        let utcOffset = configuration.settings.schedule.utcOffsetSeconds
        if options.json {
            let json = WeekStatusJSON(status, deadlineMissed: missed.map(\.rawValue), utcOffsetSeconds: utcOffset)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(json), as: UTF8.self))
            if !missed.isEmpty { throw ExitCode(1) }
            return
        }
        let out = DemoPrinter()
        out.line(
            "\(status.cycle.week): intake \(status.cycle.intakeAt.rfc3339(utcOffsetSeconds: utcOffset)), "
                + "due \(status.cycle.dueBy.rfc3339(utcOffsetSeconds: utcOffset))")
        for (name, batches) in [("intake", status.intake), ("return", status.returns)] {
            out.line(
                "\(name) batches: \(batches.emitted)/\(batches.expected) emitted (\(batches.items) items), "
                    + "\(batches.outdated.count) outdated by late data, \(batches.missing.count) not emitted")
            for (label, ids) in [("not emitted", batches.missing), ("outdated", batches.outdated)] where !ids.isEmpty {
                out.line("  \(label): " + ids.prefix(8).joined(separator: ", ") + (ids.count > 8 ? ", … (\(ids.count))" : ""))
            }
        }
        out.section("Reports of this intake, by province")
        out.table(
            ["province", "reports", "resolved by due", "outstanding", "overdue", "carried over"],
            status.provinces.map {
                [$0.province, "\($0.reports)", "\($0.resolvedByDeadline)", "\($0.outstanding)", "\($0.overdue)", "\($0.carriedOver)"]
            })
        guard !missed.isEmpty else { return }
        var errorStream = StandardError()
        for kind in missed {
            let due = kind == .intake ? status.cycle.intakeAt : status.cycle.dueBy
            print(
                "batch status: \(status.cycle.week) \(kind.rawValue) batches not all emitted by their due time "
                    + "\(due.rfc3339(utcOffsetSeconds: utcOffset)) (+ \(graceMs / 1000) s grace)", to: &errorStream)
        }
        throw ExitCode(1)
    }
}

/// `baocuo batch status --json`: one object, keys sorted.
struct WeekStatusJSON: Encodable {
    var week: String
    var intakeAt: String
    var dueBy: String
    var intake: WeekStatus.Batches
    var `return`: WeekStatus.Batches
    var provinces: [WeekStatus.Province]
    /// The kinds of batches past their due time + grace and not all emitted.
    var deadlineMissed: [String]

    init(_ status: WeekStatus, deadlineMissed: [String], utcOffsetSeconds: Int) {
        week = status.cycle.week.description
        intakeAt = status.cycle.intakeAt.rfc3339(utcOffsetSeconds: utcOffsetSeconds)
        dueBy = status.cycle.dueBy.rfc3339(utcOffsetSeconds: utcOffsetSeconds)
        intake = status.intake
        self.return = status.returns
        provinces = status.provinces
        self.deadlineMissed = deadlineMissed
    }
}
