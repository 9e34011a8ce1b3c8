/// Builds the weekly batches of CONTRACT §6 from recorded data and the calendar. Pure: the same
/// sources, cycle and calendar always give the same batches, whenever and wherever they are built.
///
/// A report stays in the intake week the router recorded (`intakeBatch`), but its items carry that
/// week's intake and deadline as `calendar` has them now: the routed ones, unless a schedule
/// loaded since moved them (then the batch's digest changes with them).
public struct BatchBuilder: Sendable {
    /// Resolves owner codes to regions and provinces (return batches group by province).
    public let regions: RegionTable
    /// The calendar whose current cycles give the items' `intakeAt` and `dueBy`.
    public let calendar: WorkCalendar
    /// Writes the built batches' records, in the calendar's zone.
    public let encoder: BatchRecordEncoder

    /// A builder over `regions` and `calendar`, encoding times at the calendar schedule's offset.
    public init(regions: RegionTable, calendar: WorkCalendar) {
        self.regions = regions
        self.calendar = calendar
        self.encoder = BatchRecordEncoder(utcOffsetSeconds: calendar.schedule.utcOffsetSeconds)
    }

    /// The intake batch of `region` for `cycle`: its reports whose intake is `cycle`, by reportId.
    /// A region without reports gets a batch with no items, so its manifest says so.
    public func intakeBatch(region: String, cycle: WeeklyCycle, sources: BatchSources) -> WeeklyBatch {
        let items = (sources.reportsByOwner[region] ?? []).filter { $0.intakeBatch == cycle.week }
            .map { IntakeItem(report: Self.report($0, in: cycle)) }
        return WeeklyBatch(kind: .intake, scope: region, cycle: cycle, content: .intake(items), encoder: encoder)
    }

    /// The intake batches of every region of the table for `cycle`, in region order.
    public func intakeBatches(cycle: WeeklyCycle, sources: BatchSources) -> [WeeklyBatch] {
        regions.regions.map { intakeBatch(region: $0.code, cycle: cycle, sources: sources) }
    }

    /// The return batch of `province` for `cycle`: every report of the cycle's intake owned by a
    /// region of the province, with the outcome that counts at `cycle.dueBy` (by reportId), then
    /// every report of an earlier intake still unresolved at that deadline, `PENDING` and overdue
    /// (by intake week, then reportId).
    public func returnBatch(province: String, cycle: WeeklyCycle, sources: BatchSources) -> WeeklyBatch {
        var current: [ReturnItem] = []
        var carried: [ReturnItem] = []
        var cycles: [IsoWeek: WeeklyCycle?] = [cycle.week: cycle]
        for region in regions.regions(inProvince: province) {
            for report in sources.reportsByOwner[region.code] ?? [] where report.intakeBatch <= cycle.week {
                let resolution = sources.resolution(of: report.reportId, atOrBefore: cycle.dueBy)
                if report.intakeBatch == cycle.week {
                    current.append(ReturnItem(report: Self.report(report, in: cycle), resolution: resolution, overdue: false))
                } else if resolution == nil {
                    if cycles[report.intakeBatch] == nil { cycles[report.intakeBatch] = calendar.cycle(for: report.intakeBatch) }
                    let own = cycles[report.intakeBatch] ?? nil
                    carried.append(ReturnItem(report: own.map { Self.report(report, in: $0) } ?? report, resolution: nil, overdue: true))
                }
            }
        }
        current.sort { $0.report.reportId < $1.report.reportId }
        carried.sort { ($0.report.intakeBatch, $0.report.reportId) < ($1.report.intakeBatch, $1.report.reportId) }
        return WeeklyBatch(kind: .return, scope: province, cycle: cycle, content: .return(current + carried), encoder: encoder)
    }

    /// The return batches of every province of the table for `cycle`, in province order.
    public func returnBatches(cycle: WeeklyCycle, sources: BatchSources) -> [WeeklyBatch] {
        regions.provinces.map { returnBatch(province: $0, cycle: cycle, sources: sources) }
    }

    /// `report` with the intake and deadline of `cycle`, the current cycle of its routed week (a
    /// carried-over report of a week the calendar no longer gives a cycle keeps the routed ones).
    private static func report(_ report: OwnerCopy, in cycle: WeeklyCycle) -> OwnerCopy {
        var report = report
        report.intakeAt = cycle.intakeAt
        report.dueBy = cycle.dueBy
        return report
    }
}
