/// The rows of a calendar file (`date,kind,occasion`), with every problem of a single row or of
/// the years' coverage collected rather than thrown: `WorkCalendar` refuses the first,
/// `WorkCalendar.check` reports them all.
struct CalendarFile {
    struct Entry {
        var date: CivilDate
        /// `workday` (a make-up working day) rather than `holiday`.
        var isWorking: Bool
        var occasion: Substring
        var line: Int
    }

    let source: String
    /// The rows that parse, each date once (a duplicate stays out, as a problem).
    let entries: [Entry]
    /// Bad dates, unknown kinds, duplicate dates, and a year without dates between two that have some.
    let problems: [ConfigError]
    /// The first to the last year with dates; nil for a file without any.
    let years: ClosedRange<Int>?

    /// Throws only when the file is not the expected CSV at all (header, column count).
    init(csv: String, source: String) throws(ConfigError) {
        let rows = try CSVRows(csv, source: source, header: ["date", "kind", "occasion"]).rows
        var entries: [Entry] = []
        var problems: [ConfigError] = []
        var lineByDay: [Int: Int] = [:]
        for row in rows {
            guard let date = CivilDate(iso: row.fields[0]) else {
                problems.append(ConfigError(file: source, line: row.line, reason: "bad date \"\(row.fields[0])\": expected YYYY-MM-DD"))
                continue
            }
            let isWorking: Bool
            switch row.fields[1] {
            case "holiday": isWorking = false
            case "workday": isWorking = true
            default:
                problems.append(
                    ConfigError(
                        file: source, line: row.line,
                        reason: "unknown kind \"\(row.fields[1])\": expected holiday or workday"))
                continue
            }
            if let firstLine = lineByDay[date.daysSinceEpoch] {
                problems.append(ConfigError(file: source, line: row.line, reason: "duplicate date \(date) (first on line \(firstLine))"))
                continue
            }
            lineByDay[date.daysSinceEpoch] = row.line
            entries.append(Entry(date: date, isWorking: isWorking, occasion: row.fields[2], line: row.line))
        }
        let listed = Set(entries.map(\.date.year))
        if let first = listed.min(), let last = listed.max() {
            years = first...last
            // Every year has public holidays; a year without any dates is a hole in the file, not a plain year.
            if let missing = (first...last).first(where: { !listed.contains($0) }) {
                problems.append(ConfigError(file: source, reason: "no dates for \(missing), between \(first) and \(last)"))
            }
        } else {
            years = nil
            if problems.isEmpty {
                problems.append(ConfigError(file: source, reason: "no dates: the calendar must list the holidays of at least one year"))
            }
        }
        self.source = source
        self.entries = entries
        self.problems = problems
    }
}

extension WorkCalendar {
    /// Every problem of a calendar file, for `baocuo calendar check`, in line order (problems
    /// without a line last): what refuses loading (bad dates and kinds, duplicate dates, a year
    /// without dates), and what a correctly transcribed State Council schedule never has — a
    /// statutory day of a listed year (`StatutoryHolidays`, by the law in force that year) that
    /// is not a `holiday`, and a `workday` (make-up working day) that is not a Saturday or Sunday.
    /// Empty when the file is fine.
    public static func check(csv: String, source: String) -> [ConfigError] {
        let file: CalendarFile
        do {
            file = try CalendarFile(csv: csv, source: source)
        } catch {
            return [error]
        }
        var problems = file.problems
        var entryByDay: [Int: CalendarFile.Entry] = [:]
        for entry in file.entries {
            entryByDay[entry.date.daysSinceEpoch] = entry
            if entry.isWorking && entry.date.isoWeekday <= 5 {
                problems.append(
                    ConfigError(
                        file: source, line: entry.line,
                        reason:
                            "make-up working day \(entry.date) is a \(Self.weekdayNames[entry.date.isoWeekday - 1]): "
                            + "make-up days fall on a Saturday or Sunday"))
            }
        }
        for year in Set(file.entries.map(\.date.year)).sorted() {
            for holiday in StatutoryHolidays(year: year).holidays {
                // A missing day is reported at the first listed day of that holiday, if any.
                let occasionLine = file.entries.first { $0.date.year == year && $0.occasion == holiday.occasion.rawValue }?.line
                for day in holiday.days {
                    let entry = entryByDay[day.daysSinceEpoch]
                    guard entry?.isWorking != false else { continue }
                    let listed = entry.map { _ in "listed as a workday" } ?? "not listed"
                    problems.append(
                        ConfigError(
                            file: source, line: entry?.line ?? occasionLine,
                            reason:
                                "\(day) is a statutory day off of \(year)'s \(holiday.occasion.rawValue) but is \(listed): "
                                + "expected \(day),holiday,\(holiday.occasion.rawValue)"))
                }
            }
        }
        return problems.enumerated().sorted { lhs, rhs in
            (lhs.element.line ?? .max, lhs.offset) < (rhs.element.line ?? .max, rhs.offset)
        }.map(\.element)
    }

    static let weekdayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
}
