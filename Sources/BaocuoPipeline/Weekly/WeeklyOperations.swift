import BaocuoDomain
import BaocuoKafka
import Logging

/// Operator access to the weekly batches (`baocuo batch`): rebuild a week's batches from the
/// recorded data, re-emit them, and report a week's state. Rebuilding gives the emitted batches
/// exactly (same records, same digest) unless data arrived since or a schedule loaded since moved
/// the cycle, in which case the rebuild is the next revision.
public struct WeeklyOperations: Sendable {
    /// The topic names of the configured prefix.
    public let names: TopicNames
    /// Builds the batches from a snapshot, as the scheduler does.
    public let builder: BatchBuilder
    /// The working-day calendar the cycles come from.
    public let calendar: WorkCalendar
    /// Reads the topics a snapshot is made of.
    public let reader: TopicReader
    /// Emits batches and their markers.
    public let emitter: BatchEmitter
    /// The end of the shared resolutions topic's migration window (`resolutions.sharedTopicUntil`).
    public let sharedTopicUntil: Timestamp

    /// Operations on the cluster at `brokers` with the configuration's regions, calendar and topics.
    public init(configuration: DomainConfiguration, brokers: String, kafkaProperties: [String: String] = [:], logger: Logger) {
        let settings = configuration.settings
        names = TopicNames(prefix: settings.topicPrefix)
        sharedTopicUntil = settings.resolutions.sharedTopicUntil
        builder = BatchBuilder(regions: configuration.regions, calendar: configuration.calendar)
        calendar = configuration.calendar
        reader = TopicReader(brokers: brokers, logger: logger, properties: kafkaProperties)
        emitter = BatchEmitter(names: names, encoder: builder.encoder, brokers: brokers, kafkaProperties: kafkaProperties, logger: logger)
    }

    /// Reads everything a week's batches are built from (reports, resolutions, markers).
    public func snapshot() async throws -> WeeklySnapshot {
        try await WeeklySnapshot.read(reader: reader, names: names, sharedTopicUntil: sharedTopicUntil)
    }

    /// The cycle of `week`, or an error naming why there is none.
    public func cycle(of week: IsoWeek) throws(WeeklyOperationError) -> WeeklyCycle {
        guard let cycle = calendar.cycle(for: week) else { throw .noCycle(week) }
        return cycle
    }

    /// The batches of `kind` for `week` (all regions or provinces, or just `scope`), each at the
    /// revision an emission now would use: the emitted revision when unchanged, the next otherwise.
    public func rebuild(
        _ kind: BatchKind, week: IsoWeek, scope: String? = nil,
        snapshot: WeeklySnapshot
    ) throws(WeeklyOperationError) -> [PlannedEmission] {
        let cycle = try cycle(of: week)
        let batches: [WeeklyBatch]
        switch (kind, scope) {
        case (.intake, nil): batches = builder.intakeBatches(cycle: cycle, sources: snapshot.sources)
        case (.return, nil): batches = builder.returnBatches(cycle: cycle, sources: snapshot.sources)
        case (.intake, let region?):
            guard builder.regions.regions.contains(where: { $0.code == region }) else { throw .unknownScope(region) }
            batches = [builder.intakeBatch(region: region, cycle: cycle, sources: snapshot.sources)]
        case (.return, let province?):
            guard builder.regions.provinces.contains(province) else { throw .unknownScope(province) }
            batches = [builder.returnBatch(province: province, cycle: cycle, sources: snapshot.sources)]
        }
        return batches.map { batch in
            PlannedEmission(batch: batch, revision: BatchMarker.revision(for: batch, latest: snapshot.markers[batch.batchId]).revision)
        }
    }

    /// A week at a glance: which batches are emitted, which are missing or outdated, and how many
    /// reports of the week's intake are resolved, outstanding and overdue at `now`.
    public func status(week: IsoWeek, snapshot: WeeklySnapshot, now: Timestamp) throws(WeeklyOperationError) -> WeekStatus {
        let cycle = try cycle(of: week)
        func batchStatus(_ batches: [WeeklyBatch]) -> WeekStatus.Batches {
            var status = WeekStatus.Batches(expected: batches.count)
            for batch in batches {
                switch snapshot.markers[batch.batchId] {
                case nil: status.missing.append(batch.batchId)
                case let marker? where !marker.describes(batch): status.outdated.append(batch.batchId)
                case let marker?:
                    status.emitted += 1
                    status.items += marker.itemCount
                }
            }
            return status
        }
        var provinces: [String: WeekStatus.Province] = [:]
        for report in snapshot.sources.reports.values where report.intakeBatch <= week {
            guard let province = builder.regions.province(of: report.owner) else { continue }
            let atDeadline = snapshot.sources.resolution(of: report.reportId, atOrBefore: cycle.dueBy)
            let resolvedNow = snapshot.sources.resolutions[report.reportId]?.isEmpty == false
            var counts = provinces[province] ?? WeekStatus.Province(province: province)
            if report.intakeBatch == week {
                counts.reports += 1
                if atDeadline != nil { counts.resolvedByDeadline += 1 }
                if !resolvedNow {
                    counts.outstanding += 1
                    if now > cycle.dueBy { counts.overdue += 1 }
                }
            } else if atDeadline == nil {
                counts.carriedOver += 1
            }
            provinces[province] = counts
        }
        return WeekStatus(
            cycle: cycle,
            intake: batchStatus(builder.intakeBatches(cycle: cycle, sources: snapshot.sources)),
            returns: batchStatus(builder.returnBatches(cycle: cycle, sources: snapshot.sources)),
            provinces: provinces.values.sorted { $0.province < $1.province })
    }
}

/// The state of one week (`baocuo batch status`).
public struct WeekStatus: Sendable {
    /// The intake or the return batches of the week.
    public struct Batches: Sendable, Encodable {
        /// How many batches the week has (one per region, or per province).
        public var expected: Int
        /// Emitted with the content a rebuild gives now.
        public var emitted = 0
        /// Items in the emitted batches.
        public var items = 0
        /// Never emitted (not yet due, or the fleet has not got to it).
        public var missing: [String] = []
        /// Emitted, but data arrived since or the calendar moved the cycle's intake or deadline: the
        /// scheduler emits a new revision within its look-back window.
        public var outdated: [String] = []
    }

    /// One province's reports of the week.
    public struct Province: Sendable, Encodable {
        /// The province code.
        public var province: String
        /// Reports of this week's intake owned by the province's regions.
        public var reports = 0
        /// Of them, resolved by the deadline (what the return says).
        public var resolvedByDeadline = 0
        /// Of them, without any valid resolution yet.
        public var outstanding = 0
        /// Outstanding and past the deadline.
        public var overdue = 0
        /// Reports of earlier intakes unresolved at this week's deadline.
        public var carriedOver = 0
    }

    /// The week's cycle: intake instant and due time.
    public var cycle: WeeklyCycle
    /// The Monday intake batches.
    public var intake: Batches
    /// The Friday return batches.
    public var returns: Batches
    /// Provinces with reports this week or carried over, by code.
    public var provinces: [Province]
}

/// Why a `baocuo batch` request cannot be served.
public enum WeeklyOperationError: Error, CustomStringConvertible {
    /// The week has no working day, so no cycle.
    case noCycle(IsoWeek)
    /// `--region` / `--province` names no region or province of the table.
    case unknownScope(String)

    /// What the operator asked for that cannot be done, and why.
    public var description: String {
        switch self {
        case .noCycle(let week): "\(week) has no cycle: no working day Monday–Friday; its reports belong to the next week with one"
        case .unknownScope(let code): "\(code) is not a pooling region / province of the region table"
        }
    }
}
