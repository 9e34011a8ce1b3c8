import BaocuoDomain
import BaocuoKafka
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Settings of the weekly batch scheduler that runs in every worker.
public struct WeeklySchedulerOptions: Sendable {
    /// Bootstrap brokers, a comma-separated `host:port` list.
    public var brokers: String
    /// Weeks before the current one re-checked at every tick (late data, missed emissions).
    public var lookBackWeeks: Int
    /// Waited after an intake or due instant before the first emission, so that what was recorded
    /// just before it has been routed.
    public var settleDelay: Duration
    /// How often the scheduler looks for due batches, late data and refused resolutions.
    public var tickInterval: Duration
    /// Before emitting, each worker waits a random time up to this, then re-reads the markers:
    /// when several workers see the same due batch, usually only the first emits it.
    public var raceJitter: Duration
    /// The consumer group whose committed offsets on the resolutions topics track the DLQ check.
    public var checkerGroup: String
    /// librdkafka properties (TLS, SASL, …) for every client.
    public var kafkaProperties: [String: String]
    /// The oldest week the scheduler emits (see ``FirstWeek``).
    public var firstWeek: FirstWeek
    /// After a batch's due time, how long before `baocuo_batch_deadline_missed` says it is missing.
    public var deadlineGrace: Duration

    /// The oldest week whose batches the scheduler emits; the look-back window never reaches before it.
    public enum FirstWeek: Sendable, Equatable {
        /// Every week of the look-back window (tests and the demo, whose clusters start empty on purpose).
        case lookBackWindow
        /// This week and later: a go-live that emits from a chosen week (`scheduler.startWeek`).
        case week(IsoWeek)
        /// The oldest week with an emitted batch; on a cluster without any, the current week. The
        /// default of `baocuo run`: a first start emits no history, and a restart resumes the
        /// look-back window from the first emission on.
        case sinceFirstEmission
    }

    /// Options with the defaults: 8 weeks of look-back, a 60 s settle delay and tick interval, 5 s of jitter.
    public init(
        brokers: String, lookBackWeeks: Int = 8, settleDelay: Duration = .seconds(60),
        tickInterval: Duration = .seconds(60), raceJitter: Duration = .seconds(5),
        checkerGroup: String = "baocuo-resolution-check", kafkaProperties: [String: String] = [:],
        firstWeek: FirstWeek = .lookBackWindow, deadlineGrace: Duration = .milliseconds(BatchDeadlines.defaultGraceMilliseconds)
    ) {
        self.firstWeek = firstWeek
        self.deadlineGrace = deadlineGrace
        self.brokers = brokers
        self.lookBackWeeks = lookBackWeeks
        self.settleDelay = settleDelay
        self.tickInterval = tickInterval
        self.raceJitter = raceJitter
        self.checkerGroup = checkerGroup
        self.kafkaProperties = kafkaProperties
    }
}

/// What one tick did.
public struct SchedulerTick: Sendable {
    /// Markers of the batches this worker emitted (first emissions and new revisions).
    public var emitted: [BatchMarker] = []
    /// Due batches another worker had already emitted unchanged.
    public var alreadyEmitted = 0
    /// Refused resolutions dead-lettered.
    public var deadLettered = 0
    /// Resolution and inbox records read by this tick: those appended since the previous one.
    public var recordsRead = 0
}

/// The weekly batch scheduler (CONTRACT §6): a `Service` in every `baocuo run` worker. At each
/// tick it reads the recorded data, rebuilds every due batch of the look-back window, and emits
/// those whose marker is missing or no longer describes them (late data, or a reloaded calendar
/// that moved the cycle: a new revision). No
/// worker is special: they all do the same, and emission is idempotent (see `BatchEmitter`).
public final class WeeklyScheduler: Service, Sendable {
    /// The settings the scheduler was started with.
    public let options: WeeklySchedulerOptions
    private let names: TopicNames
    /// The region table and the calendar batches are built with, replaced on reload (SIGHUP).
    private let plan: Mutex<(builder: BatchBuilder, schedule: BatchSchedule)>
    private let clock: any SchedulerClock
    private let reader: TopicReader
    /// The resolutions and owner copies read by earlier ticks: a tick reads only what is new.
    private let feed: WeeklySnapshotFeed
    private let emitter: BatchEmitter
    private let checker: ResolutionChecker
    private let logger: Logger
    private let regions: Mutex<RegionTable>
    private let deadlineGauges: BatchDeadlineGauges
    private let emittedCounters: DimensionedCounters<BatchKind>
    /// The markers of the last successful read, with this worker's emissions since: what the
    /// deadline gauges judge by while the cluster cannot be read (nil before the first read).
    private let knownMarkers = Mutex<[String: BatchMarker]?>(nil)
    /// "week kind" of the missed deadlines already logged.
    private let reportedMisses = Mutex<Set<String>>([])

    /// `metricsFactory`: the bootstrapped backend by default; a private registry's in tests.
    public init(
        configuration: DomainConfiguration, options: WeeklySchedulerOptions, clock: any SchedulerClock = SystemClock(),
        logger: Logger, metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        let settings = configuration.settings
        let utcOffset = settings.schedule.utcOffsetSeconds
        self.options = options
        self.clock = clock
        self.logger = logger
        names = TopicNames(prefix: settings.topicPrefix)
        let builder = BatchBuilder(regions: configuration.regions, calendar: configuration.calendar)
        plan = Mutex((builder, Self.schedule(configuration.calendar, options)))
        regions = Mutex(configuration.regions)
        deadlineGauges = BatchDeadlineGauges(factory: metricsFactory)
        emittedCounters = DimensionedCounters(
            label: PipelineMetricNames.batchesEmitted, dimension: "kind",
            factory: metricsFactory, name: \.rawValue)
        // Exported from the start (0), not from the first emission: a rate over it needs the series.
        emittedCounters.increment([.intake: 0, .return: 0])
        reader = TopicReader(brokers: options.brokers, logger: logger, properties: options.kafkaProperties)
        feed = WeeklySnapshotFeed(reader: reader, names: names, sharedTopicUntil: settings.resolutions.sharedTopicUntil)
        emitter = BatchEmitter(
            names: names, encoder: builder.encoder, brokers: options.brokers,
            kafkaProperties: options.kafkaProperties, logger: logger)
        checker = ResolutionChecker(
            names: names, group: options.checkerGroup, brokers: options.brokers,
            kafkaProperties: options.kafkaProperties, utcOffsetSeconds: utcOffset,
            sharedTopicUntil: settings.resolutions.sharedTopicUntil, logger: logger,
            metricsFactory: metricsFactory)
    }

    /// Builds the batches of later ticks with `configuration`'s region table and calendar (a SIGHUP
    /// reload, e.g. next year's holiday schedule). The next tick emits a new revision of each
    /// emitted batch of the look-back window whose cycle the new calendar moved (another intake
    /// instant or deadline) or whose items it changed (a carried-over report's deadline, a
    /// resolution on the other side of a moved deadline); every other batch stays as emitted.
    public func reload(configuration: DomainConfiguration) {
        let builder = BatchBuilder(regions: configuration.regions, calendar: configuration.calendar)
        let schedule = Self.schedule(configuration.calendar, options)
        plan.withLock { $0 = (builder, schedule) }
        regions.withLock { $0 = configuration.regions }
    }

    private static func schedule(_ calendar: WorkCalendar, _ options: WeeklySchedulerOptions) -> BatchSchedule {
        BatchSchedule(calendar: calendar, lookBackWeeks: options.lookBackWeeks, settleMilliseconds: options.settleDelay.milliseconds)
    }

    /// Ticks until graceful shutdown: at every `tickInterval`, and as soon as something falls due.
    /// A failed tick is logged and retried at the next one: nothing it did half is trusted.
    public func run() async throws {
        logger.info(
            "weekly scheduler starting",
            metadata: [
                "lookBackWeeks": "\(options.lookBackWeeks)", "tickInterval": "\(options.tickInterval)",
                "firstWeek": "\(options.firstWeek.logDescription)", "deadlineGrace": "\(options.deadlineGrace)",
            ])
        // Workers started together tick at different moments, which keeps most emissions single.
        var next = Timestamp(
            millisecondsSinceEpoch: clock.now().millisecondsSinceEpoch
                + Int64.random(in: 0...options.tickInterval.milliseconds))
        while true {
            do {
                let wake = next
                try await cancelWhenGracefulShutdown { try await self.clock.sleep(until: wake) }
                // A tick cut short by shutdown is safe: a batch without its marker is emitted again, identically.
                _ = try await cancelWhenGracefulShutdown { try await self.tick() }
            } catch is CancellationError {
                break
            } catch {
                logger.error("weekly scheduler tick failed; retrying at the next tick", metadata: ["error": "\(error)"])
            }
            // After every attempt, failed ones too: a deadline passing while the cluster cannot be
            // read is reported from the markers last read.
            publishDeadlines(at: clock.now())
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let now = clock.now()
            next = min(
                Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch + options.tickInterval.milliseconds),
                plan.withLock { $0.schedule }.nextDue(after: now))
        }
        logger.info("weekly scheduler stopped")
    }

    /// One pass at the clock's current time: dead-letters refused resolutions, then emits every
    /// due batch of the look-back window that has no marker or whose marker no longer describes it.
    @discardableResult
    public func tick() async throws -> SchedulerTick {
        let now = clock.now()
        let (builder, schedule) = plan.withLock { $0 }
        var result = SchedulerTick()
        let (snapshot, recordsRead) = try await feed.read()
        result.recordsRead = recordsRead
        result.deadLettered = try await checker.deadLetterRefused(in: snapshot, failedAt: now)
        let floor = firstWeek(markers: snapshot.markers, now: now)
        let due = schedule.dueCycles(at: now).filter { floor.map($0.cycle.week.isAtOrAfter) ?? true }.flatMap { due in
            builder.intakeBatches(cycle: due.cycle, sources: snapshot.sources)
                + (due.returnDue ? builder.returnBatches(cycle: due.cycle, sources: snapshot.sources) : [])
        }
        let previous = snapshot.markers
        knownMarkers.withLock { $0 = previous }
        var pending = plan(due, markers: previous)
        result.alreadyEmitted = due.count - pending.count
        if !pending.isEmpty && options.raceJitter > .zero {
            try await Task.sleep(for: .milliseconds(Int64.random(in: 0...options.raceJitter.milliseconds)))
            let markers = try await WeeklySnapshot.readMarkers(reader: reader, names: names)
            pending = plan(pending.map(\.batch), markers: markers)
            result.alreadyEmitted = due.count - pending.count
        }
        try Task.checkCancellation()
        if !pending.isEmpty {
            logger.info("emitting weekly batches", metadata: ["count": "\(pending.count)"])
        }
        result.emitted = try await emitter.emit(pending, emittedAt: now)
        knownMarkers.withLock { known in
            for marker in result.emitted { known?[marker.batchId] = marker }
        }
        emittedCounters.increment(Dictionary(grouping: result.emitted, by: \.kind).mapValues(\.count))
        deadlineGauges.tickSucceeded(at: now)
        for marker in result.emitted where marker.revision > 1 {
            // Same items as before: only a reloaded calendar moved the intake or the deadline.
            let reason = previous[marker.batchId]?.digest == marker.digest ? "cycle moved" : "items changed"
            logger.notice(
                "batch re-emitted as a new revision",
                metadata: [
                    "batchId": "\(marker.batchId)", "revision": "\(marker.revision)", "items": "\(marker.itemCount)",
                    "reason": "\(reason)",
                ])
        }
        if !result.emitted.isEmpty {
            logger.info("weekly batches emitted", metadata: ["count": "\(result.emitted.count)"])
        }
        return result
    }

    /// The oldest week to emit at `now` given the emitted `markers`; nil: the whole look-back window.
    private func firstWeek(markers: [String: BatchMarker], now: Timestamp) -> IsoWeek? {
        switch options.firstWeek {
        case .lookBackWindow: return nil
        case .week(let week): return week
        case .sinceFirstEmission:
            return markers.values.lazy.map(\.week).min()
                ?? IsoWeek(containing: now.civilDate(utcOffsetSeconds: plan.withLock { $0.schedule }.calendar.schedule.utcOffsetSeconds))
        }
    }

    /// The deadline status of every due week and kind of the look-back window at `now`, judged by
    /// the markers last read (none read yet: nothing is known to be emitted).
    public func deadlines(at now: Timestamp) -> [BatchDeadlineStatus] {
        let schedule = plan.withLock { $0.schedule }
        let markers = knownMarkers.withLock { $0 } ?? [:]
        let floor = firstWeek(markers: markers, now: now)
        let cycles = schedule.dueCycles(at: now).map(\.cycle).filter { floor.map($0.week.isAtOrAfter) ?? true }
        return BatchDeadlines.evaluate(
            cycles: cycles, regions: regions.withLock { $0 }, markers: markers.values, now: now,
            graceMilliseconds: options.deadlineGrace.milliseconds)
    }

    /// Publishes ``deadlines(at:)`` as gauges, and logs each newly missed deadline once.
    public func publishDeadlines(at now: Timestamp) {
        let statuses = deadlines(at: now)
        deadlineGauges.publish(statuses)
        for status in statuses where status.missed && reportedMisses.withLock({ $0.insert("\(status.week) \(status.kind)").inserted }) {
            logger.error(
                "weekly batches not emitted by their due time",
                metadata: [
                    "week": "\(status.week)", "kind": "\(status.kind.rawValue)", "dueAt": "\(status.dueAt)",
                    "emitted": "\(status.emitted)", "expected": "\(status.expected)",
                ])
        }
    }

    /// The batches to emit and at which revision: those not already emitted with this content.
    private func plan(_ batches: [WeeklyBatch], markers: [String: BatchMarker]) -> [PlannedEmission] {
        batches.compactMap { batch in
            let (revision, emitted) = BatchMarker.revision(for: batch, latest: markers[batch.batchId])
            return emitted ? nil : PlannedEmission(batch: batch, revision: revision)
        }
    }
}

extension IsoWeek {
    func isAtOrAfter(_ other: IsoWeek) -> Bool { self >= other }
}

extension WeeklySchedulerOptions.FirstWeek {
    var logDescription: String {
        switch self {
        case .lookBackWindow: "look-back window"
        case .week(let week): "\(week)"
        case .sinceFirstEmission: "first emission (current week on an empty cluster)"
        }
    }
}
