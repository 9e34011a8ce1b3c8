import Synchronization

/// Working days and the weekly cycle (CONTRACT §6), from `Config/calendar.csv`.
///
/// Working days are Monday–Friday, minus the file's `holiday` dates, plus its `workday` dates
/// (调休 make-up days, usually a Saturday or Sunday). As the contract says, intake and due days
/// are chosen only among Monday–Friday of a week: a weekend make-up day is a working day
/// (`isWorkingDay` is true) but never an intake or due day.
///
/// Calendar years outside the file's coverage fall back to plain Monday–Friday; the `warn`
/// callback hears about each such year once.
public struct WorkCalendar: Sendable {
    public let schedule: Schedule
    /// The calendar years the file speaks for: the first to the last year it has dates in.
    public let coveredYears: ClosedRange<Int>

    /// `daysSinceEpoch` of each date in the file → whether it is a working day.
    private let exceptions: [Int: Bool]
    /// The cycles of every week whose Monday–Friday lie within `coveredYears`, in order, and
    /// their intake instants apart, so the per-record lookup is a binary search over a small,
    /// contiguous `Int64` array with no locking and no allocation.
    private let coveredCycles: [WeeklyCycle]
    private let coveredIntakeMilliseconds: [Int64]
    private let fallback: FallbackYears

    /// Parses the calendar file: header `date,kind,occasion`, `kind` is `holiday` or `workday`.
    /// - Parameters:
    ///   - source: the file name used in error and warning messages.
    ///   - warn: called once for each year outside the file's coverage that a query touches.
    public init(csv: String, source: String, schedule: Schedule = Schedule(),
                warn: @escaping @Sendable (String) -> Void = { _ in }) throws(ConfigError) {
        let rows = try CSVRows(csv, source: source, header: ["date", "kind", "occasion"]).rows
        var exceptions: [Int: Bool] = [:]
        var lineByDay: [Int: Int] = [:]
        var years = Set<Int>()
        for row in rows {
            guard let date = CivilDate(iso: row.fields[0]) else {
                throw ConfigError(file: source, line: row.line, reason: "bad date \"\(row.fields[0])\": expected YYYY-MM-DD")
            }
            let isWorking: Bool
            switch row.fields[1] {
            case "holiday": isWorking = false
            case "workday": isWorking = true
            default:
                throw ConfigError(file: source, line: row.line,
                                  reason: "unknown kind \"\(row.fields[1])\": expected holiday or workday")
            }
            if let firstLine = lineByDay[date.daysSinceEpoch] {
                throw ConfigError(file: source, line: row.line, reason: "duplicate date \(date) (first on line \(firstLine))")
            }
            lineByDay[date.daysSinceEpoch] = row.line
            exceptions[date.daysSinceEpoch] = isWorking
            years.insert(date.year)
        }
        guard let firstYear = years.min(), let lastYear = years.max() else {
            throw ConfigError(file: source, reason: "no dates: the calendar must list the holidays of at least one year")
        }
        // Every year has public holidays; a year without any dates is a hole in the file, not a plain year.
        if let missing = (firstYear...lastYear).first(where: { !years.contains($0) }) {
            throw ConfigError(file: source, reason: "no dates for \(missing), between \(firstYear) and \(lastYear)")
        }

        // The table is built by `cycle(for:)` itself, so a cycle has one definition. Weeks reaching
        // outside the covered years stay out of it: they warn when (and only if) they are used.
        let covered = firstYear...lastYear
        let withoutTable = WorkCalendar(schedule: schedule, coveredYears: covered, exceptions: exceptions,
                                        fallback: FallbackYears(source: source, covered: covered, warn: warn),
                                        coveredCycles: [])
        var firstWeek = IsoWeek(containing: CivilDate(year: firstYear, month: 1, day: 1)!)
        if firstWeek.monday.year < firstYear { firstWeek = firstWeek.next }
        var lastWeek = IsoWeek(containing: CivilDate(year: lastYear, month: 12, day: 31)!)
        if lastWeek.day(5).year > lastYear { lastWeek = lastWeek.previous }
        self.init(schedule: schedule, coveredYears: covered, exceptions: exceptions, fallback: withoutTable.fallback,
                  coveredCycles: withoutTable.cycles(from: firstWeek, through: lastWeek))
    }

    private init(schedule: Schedule, coveredYears: ClosedRange<Int>, exceptions: [Int: Bool],
                 fallback: FallbackYears, coveredCycles: [WeeklyCycle]) {
        self.schedule = schedule
        self.coveredYears = coveredYears
        self.exceptions = exceptions
        self.fallback = fallback
        self.coveredCycles = coveredCycles
        self.coveredIntakeMilliseconds = coveredCycles.map(\.intakeAt.millisecondsSinceEpoch)
    }

    /// The cycles of every week whose Monday–Friday lie within `coveredYears`, in order.
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

    /// Monday–Friday, minus the file's holidays, plus its make-up workdays.
    public func isWorkingDay(_ date: CivilDate) -> Bool {
        if coveredYears.contains(date.year) {
            if let isWorking = exceptions[date.daysSinceEpoch] { return isWorking }
        } else {
            fallback.note(year: date.year)
        }
        return date.isoWeekday <= 5
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
            intakeAt: Timestamp(date: intakeDay, secondsIntoDay: schedule.intakeSecondsIntoDay,
                                utcOffsetSeconds: schedule.utcOffsetSeconds),
            dueBy: Timestamp(date: week.day(dueWeekday), secondsIntoDay: schedule.returnSecondsIntoDay,
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

/// Remembers which uncovered years have been warned about, so each is reported once
/// even when many threads route records of that year at the same time.
private final class FallbackYears: Sendable {
    private let source: String
    private let covered: ClosedRange<Int>
    private let warn: @Sendable (String) -> Void
    private let warned = Mutex<Set<Int>>([])

    init(source: String, covered: ClosedRange<Int>, warn: @escaping @Sendable (String) -> Void) {
        self.source = source
        self.covered = covered
        self.warn = warn
    }

    func note(year: Int) {
        let isFirst = warned.withLock { $0.insert(year).inserted }
        // Outside the lock: the callback may log, and must not be able to deadlock us.
        if isFirst {
            warn("\(source) covers \(covered.lowerBound)–\(covered.upperBound); \(year) falls back to "
                 + "Monday–Friday working days without public holidays")
        }
    }
}
