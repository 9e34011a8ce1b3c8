/// How far the published calendar reaches, for the operators: `baocuo config check`, the warning a
/// worker logs at start and on reload, the `baocuo_calendar_covered_until_seconds` gauge and the
/// readiness detail. From 1 November of the last covered year (the State Council publishes the next
/// year's schedule late in the year) the next year's cycles are only provisional, and it says so.
public struct CalendarHorizon: Sendable, Equatable {
    /// The years the calendar file covers.
    public let coveredYears: ClosedRange<Int>
    /// The first year without a published schedule: provisional (statutory holidays only).
    public var firstProvisionalYear: Int { coveredYears.upperBound + 1 }
    /// The end of the coverage: midnight after 31 December of the last covered year, in the
    /// service's zone.
    public let coveredUntil: Timestamp
    /// 1 November of the last covered year, 00:00 in the service's zone: warnings start.
    public let warnFrom: Timestamp

    /// The horizon of `calendar`, with times in its schedule's zone.
    public init(calendar: WorkCalendar) {
        let lastYear = calendar.coveredYears.upperBound
        let offset = calendar.schedule.utcOffsetSeconds
        coveredYears = calendar.coveredYears
        coveredUntil = Timestamp(date: CivilDate(year: lastYear + 1, month: 1, day: 1)!, secondsIntoDay: 0, utcOffsetSeconds: offset)
        warnFrom = Timestamp(date: CivilDate(year: lastYear, month: 11, day: 1)!, secondsIntoDay: 0, utcOffsetSeconds: offset)
    }

    /// One line for `baocuo config check`: which years are covered and which are provisional.
    public var summary: String {
        "covers \(coveredYears.lowerBound)–\(coveredYears.upperBound) (published); \(firstProvisionalYear) and later provisional "
            + "(weekends and statutory holidays only)"
    }

    /// The warning from `warnFrom` on, nil before.
    public func warning(at now: Timestamp, file: String = DomainConfiguration.calendarFile) -> String? {
        guard now >= warnFrom else { return nil }
        return "\(file) ends with \(coveredYears.upperBound): \(firstProvisionalYear)'s cycles are provisional (weekends and "
            + "statutory holidays only, without the State Council's bridge days and make-up working days); add the "
            + "\(firstProvisionalYear) schedule (Deploy/RUNBOOK.md: Load next year's holiday schedule)"
    }

    /// A short form for `/health/ready` from `warnFrom` on (a detail, never a failure).
    public func readinessDetail(at now: Timestamp) -> String? {
        now >= warnFrom
            ? "calendar: \(firstProvisionalYear) provisional, \(DomainConfiguration.calendarFile) ends with \(coveredYears.upperBound)"
            : nil
    }

    /// Structured-log metadata for the warning.
    public var logFields: [String: String] {
        ["coveredYears": "\(coveredYears.lowerBound)-\(coveredYears.upperBound)", "provisionalYear": "\(firstProvisionalYear)"]
    }
}
