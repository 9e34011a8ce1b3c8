import Synchronization

/// What decides a cycle's days: the published schedule of the calendar file, or the law alone.
public enum CycleBasis: String, Sendable, Hashable {
    /// Every weekday of the week lies in a year the calendar file covers (the State Council's
    /// published schedule).
    case published
    /// Some weekday of the week lies in a year the file does not cover: weekends and the statutory
    /// holidays only (`StatutoryHolidays`). Provisional until that year's schedule is loaded.
    case statutory
}

/// Working days and the weekly cycle (CONTRACT §6), from `Config/calendar.csv`.
///
/// Working days are Monday–Friday, minus the file's `holiday` dates, plus its `workday` dates
/// (调休 make-up days, usually a Saturday or Sunday). As the contract says, intake and due days
/// are chosen only among Monday–Friday of a week: a weekend make-up day is a working day
/// (`isWorkingDay` is true) but never an intake or due day.
///
/// For a year the file covers, the file alone decides. Any other year has the weekends and the
/// statutory holidays of `StatutoryHolidays` off, and no make-up days (CONTRACT §6, amended
/// 2026-12-06): its cycles are provisional (`basis(of:)` is `.statutory`). The
/// `statutoryHorizonYears` years after the file are computed when the calendar is loaded, with
/// their cycles in the lookup table; a year beyond them (or before the file) is computed when a
/// query first reaches it, and the `warn` callback hears about it once.
public struct WorkCalendar: Sendable {
    /// The intake and return times and the zone's fixed offset.
    public let schedule: Schedule
    /// The calendar years the file speaks for: the first to the last year it has dates in.
    public let coveredYears: ClosedRange<Int>
    /// The years after `coveredYears` whose statutory holidays and cycles are computed at load.
    public let statutoryYears: ClosedRange<Int>
    /// How many years after the file `statutoryYears` spans.
    public static let statutoryHorizonYears = 2

    /// `daysSinceEpoch` of each date in the file, and of each statutory day off in
    /// `statutoryYears` → whether it is a working day.
    private let exceptions: [Int: Bool]
    /// The cycles of every week whose Monday–Friday lie within `coveredYears` and
    /// `statutoryYears`, in order, and their intake instants apart, so the per-record lookup is a
    /// binary search over a small, contiguous `Int64` array with no locking and no allocation.
    private let coveredCycles: [WeeklyCycle]
    private let coveredIntakeMilliseconds: [Int64]
    private let otherYears: OtherYears

    /// Parses the calendar file: header `date,kind,occasion`, `kind` is `holiday` or `workday`.
    /// - Parameters:
    ///   - source: the file name used in error and warning messages.
    ///   - warn: called once for each year outside the file's coverage that a query touches.
    public init(
        csv: String, source: String, schedule: Schedule = Schedule(),
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(ConfigError) {
        let file = try CalendarFile(csv: csv, source: source)
        if let problem = file.problems.first { throw problem }
        // A file without problems has dates.
        guard let covered = file.years else { throw ConfigError(file: source, reason: "no dates") }
        var exceptions: [Int: Bool] = [:]
        for entry in file.entries { exceptions[entry.date.daysSinceEpoch] = entry.isWorking }

        // The statutory years after the file join the table of days, so that they cost no more per query.
        let statutory = (covered.upperBound + 1)...(covered.upperBound + Self.statutoryHorizonYears)
        for year in statutory {
            for day in StatutoryHolidays(year: year).daysOff { exceptions[day.daysSinceEpoch] = false }
        }

        // The table is built by `cycle(for:)` itself, so a cycle has one definition. Weeks reaching
        // outside these years stay out of it: they warn when (and only if) they are used.
        let withoutTable = WorkCalendar(
            schedule: schedule, coveredYears: covered, statutoryYears: statutory,
            exceptions: exceptions,
            otherYears: OtherYears(source: source, covered: covered, warn: warn),
            coveredCycles: [])
        var firstWeek = IsoWeek(containing: CivilDate(year: covered.lowerBound, month: 1, day: 1)!)
        if firstWeek.monday.year < covered.lowerBound { firstWeek = firstWeek.next }
        var lastWeek = IsoWeek(containing: CivilDate(year: statutory.upperBound, month: 12, day: 31)!)
        if lastWeek.day(5).year > statutory.upperBound { lastWeek = lastWeek.previous }
        self.init(
            schedule: schedule, coveredYears: covered, statutoryYears: statutory, exceptions: exceptions,
            otherYears: withoutTable.otherYears, coveredCycles: withoutTable.cycles(from: firstWeek, through: lastWeek))
    }

    private init(
        schedule: Schedule, coveredYears: ClosedRange<Int>, statutoryYears: ClosedRange<Int>,
        exceptions: [Int: Bool], otherYears: OtherYears, coveredCycles: [WeeklyCycle]
    ) {
        self.schedule = schedule
        self.coveredYears = coveredYears
        self.statutoryYears = statutoryYears
        self.exceptions = exceptions
        self.otherYears = otherYears
        self.coveredCycles = coveredCycles
        self.coveredIntakeMilliseconds = coveredCycles.map(\.intakeAt.millisecondsSinceEpoch)
    }

    /// The last day of the last year the file covers.
    public var coveredUntil: CivilDate { CivilDate(year: coveredYears.upperBound, month: 12, day: 31)! }

    /// `.published` when all of Monday–Friday of `week` lie in years the file covers, else
    /// `.statutory` (provisional).
    public func basis(of week: IsoWeek) -> CycleBasis {
        coveredYears.contains(week.monday.year) && coveredYears.contains(week.day(5).year) ? .published : .statutory
    }

    /// The cycles of every week whose Monday–Friday lie within `coveredYears` or `statutoryYears`, in order.
    public var precomputedCycles: [WeeklyCycle] { coveredCycles }

    /// The index of `cycle` in `precomputedCycles`, or nil when it is not one of them.
    public func precomputedIndex(of cycle: WeeklyCycle) -> Int? {
        let index = firstCoveredIntake(after: cycle.intakeAt.millisecondsSinceEpoch &- 1)
        guard index < coveredCycles.count, coveredCycles[index] == cycle else { return nil }
        return index
    }

    /// The index of the first precomputed intake strictly after `milliseconds`, or
    /// `coveredCycles.count` when there is none: a binary search over a small, contiguous array.
    private func firstCoveredIntake(after milliseconds: Int64) -> Int {
        let intakes = coveredIntakeMilliseconds
        var low = 0
        var high = intakes.count
        while low < high {
            let middle = (low + high) / 2
            if intakes[middle] <= milliseconds { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Monday–Friday, minus the file's holidays, plus its make-up workdays; in a year the file does
    /// not cover, Monday–Friday minus the statutory holidays and days in lieu.
    public func isWorkingDay(_ date: CivilDate) -> Bool {
        if let isWorking = exceptions[date.daysSinceEpoch] { return isWorking }
        guard date.isoWeekday <= 5 else { return false }
        if coveredYears.contains(date.year) || statutoryYears.contains(date.year) { return true }
        return !otherYears.isDayOff(date)
    }

    /// The cycle of `week`, or nil when Monday–Friday of `week` has no working day: that week's
    /// reports fall into the next week that has a cycle.
    public func cycle(for week: IsoWeek) -> WeeklyCycle? {
        guard let intakeWeekday = (1...5).first(where: { isWorkingDay(week.day($0)) }) else { return nil }
        // The intake day itself is working, so this always finds a day.
        let dueWeekday = (intakeWeekday...5).last(where: { isWorkingDay(week.day($0)) })!
        let intakeDay = week.day(intakeWeekday)
        return WeeklyCycle(
            week: week,
            intakeDay: intakeDay,
            intakeAt: Timestamp(
                date: intakeDay, secondsIntoDay: schedule.intakeSecondsIntoDay,
                utcOffsetSeconds: schedule.utcOffsetSeconds),
            dueBy: Timestamp(
                date: week.day(dueWeekday), secondsIntoDay: schedule.returnSecondsIntoDay,
                utcOffsetSeconds: schedule.utcOffsetSeconds))
    }

    /// The cycle a report received at `receivedAt` belongs to: the first intake strictly after it.
    /// A report received exactly at an intake instant belongs to the following intake.
    public func cycle(receivedAt: Timestamp) -> WeeklyCycle {
        let milliseconds = receivedAt.millisecondsSinceEpoch
        let intakes = coveredIntakeMilliseconds
        if let first = intakes.first, let last = intakes.last, milliseconds >= first, milliseconds < last {
            return coveredCycles[firstCoveredIntake(after: milliseconds)]
        }
        // Outside the precomputed weeks. An intake lies in its own week, so no week before the
        // one containing `receivedAt` can have an intake after it.
        var week = IsoWeek(containing: receivedAt.civilDate(utcOffsetSeconds: schedule.utcOffsetSeconds))
        while true {
            if let cycle = cycle(for: week), cycle.intakeAt > receivedAt { return cycle }
            week = week.next
        }
    }

    /// The cycle before `cycle`: the intake window of `cycle` is `[previous.intakeAt, cycle.intakeAt)`.
    public func previousCycle(before cycle: WeeklyCycle) -> WeeklyCycle {
        var week = cycle.week.previous
        while true {
            if let previous = self.cycle(for: week) { return previous }
            week = week.previous
        }
    }

    /// The cycles of the weeks `first` through `last`, in order, skipping weeks without one.
    public func cycles(from first: IsoWeek, through last: IsoWeek) -> [WeeklyCycle] {
        var cycles: [WeeklyCycle] = []
        var week = first
        while week <= last {
            if let cycle = cycle(for: week) { cycles.append(cycle) }
            week = week.next
        }
        return cycles
    }
}

/// The statutory days off of years neither covered by the file nor precomputed, computed when a
/// query first reaches a year (each year is reported once through `warn`, even when many threads
/// route records of that year at the same time).
private final class OtherYears: Sendable {
    private let source: String
    private let covered: ClosedRange<Int>
    private let warn: @Sendable (String) -> Void
    private let daysOff = Mutex<[Int: Set<Int>]>([:])

    init(source: String, covered: ClosedRange<Int>, warn: @escaping @Sendable (String) -> Void) {
        self.source = source
        self.covered = covered
        self.warn = warn
    }

    func isDayOff(_ date: CivilDate) -> Bool {
        if let known = daysOff.withLock({ $0[date.year] }) { return known.contains(date.daysSinceEpoch) }
        // Computed outside the lock (Foundation's Chinese calendar takes a moment); a racing thread
        // computes the same set, and only the first to store it warns.
        let computed = Set(StatutoryHolidays(year: date.year).daysOff.map(\.daysSinceEpoch))
        let isFirst = daysOff.withLock { known in
            guard known[date.year] == nil else { return false }
            known[date.year] = computed
            return true
        }
        // Outside the lock: the callback may log, and must not be able to deadlock us.
        if isFirst {
            warn(
                "\(source) covers \(covered.lowerBound)–\(covered.upperBound); \(date.year) is provisional: "
                    + "weekends and statutory holidays only, no make-up working days")
        }
        return computed.contains(date.daysSinceEpoch)
    }
}
