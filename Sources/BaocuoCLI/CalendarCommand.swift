import ArgumentParser
import BaocuoDomain
import Foundation

/// `baocuo calendar --at TIMESTAMP` (CONTRACT §7): the weekly cycle a report received then falls
/// into; `--year YYYY`: every cycle of a year; `calendar check`: validates a calendar file.
struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Print the weekly cycle of a receive time (--at) or of every week of a year (--year).",
        discussion: #"""
            --at prints {"receivedAt":...,"intakeBatch":"YYYY-Www","intakeAt":...,"dueBy":...} (Asia/Shanghai), as CONTRACT §7 \
            says; a cycle in a year calendar.csv does not cover is provisional (weekends and statutory holidays only), \
            which a note on standard error says. --year prints each ISO week of the year: intake, due and basis \
            (published: the calendar file; statutory: provisional); with --json one JSON object per cycle.
            """#,
        subcommands: [Check.self]
    )

    @Option(name: .long, help: "Receive time, RFC 3339 with an offset, e.g. 2026-11-23T09:15:00+08:00.")
    var at: String?

    @Option(name: .long, help: "Print every cycle of this ISO week-numbering year, e.g. 2027.")
    var year: Int?

    @Flag(name: .long, help: "With --year: one JSON object per cycle ({week, intakeAt, dueBy, basis}).")
    var json = false

    @OptionGroup var configOptions: ConfigOptions

    // Also runs before the `check` subcommand (ArgumentParser validates every command of the
    // path), so that neither option being given is refused in `run` instead.
    func validate() throws {
        switch (at, year) {
        case (nil, nil): break
        case (.some, .some): throw ValidationError("give either --at or --year, not both")
        case (let at?, nil):
            guard Timestamp.parseRFC3339(at) != nil else {
                throw ValidationError("--at: '\(at)' is not an RFC 3339 timestamp with an offset (e.g. 2026-11-23T09:15:00+08:00)")
            }
        case (nil, let year?):
            guard (1...9998).contains(year) else { throw ValidationError("--year: \(year) is not a year") }
        }
    }

    func run() throws {
        guard at != nil || year != nil else {
            throw ValidationError("give --at TIMESTAMP or --year YYYY (or the check subcommand)")
        }
        let configuration = try configOptions.load()
        let calendar = configuration.calendar
        let offset = configuration.settings.schedule.utcOffsetSeconds
        if let at {
            let receivedAt = Timestamp.parseRFC3339(at)!
            let cycle = calendar.cycle(receivedAt: receivedAt)
            print(
                #"{"receivedAt":"\#(receivedAt.rfc3339(utcOffsetSeconds: offset))","intakeBatch":"\#(cycle.week)","#
                    + #""intakeAt":"\#(cycle.intakeAt.rfc3339(utcOffsetSeconds: offset))","#
                    + #""dueBy":"\#(cycle.dueBy.rfc3339(utcOffsetSeconds: offset))"}"#)
            if calendar.basis(of: cycle.week) == .statutory {
                warnOnStandardError("\(cycle.week) is provisional: \(Self.provisionalReason(calendar))")
            }
            return
        }
        let year = year!
        var week = IsoWeek(year: year, week: 1)!
        var weeks: [IsoWeek] = []
        while week.year == year {
            weeks.append(week)
            week = week.next
        }
        for week in weeks {
            let basis = calendar.basis(of: week).rawValue
            guard let cycle = calendar.cycle(for: week) else {
                if !json { print("\(week)  no working day Monday–Friday: its reports go to the next cycle") }
                continue
            }
            let intake = cycle.intakeAt.rfc3339(utcOffsetSeconds: offset)
            let due = cycle.dueBy.rfc3339(utcOffsetSeconds: offset)
            if json {
                print(#"{"week":"\#(week)","intakeAt":"\#(intake)","dueBy":"\#(due)","basis":"\#(basis)"}"#)
            } else {
                print("\(week)  intake \(intake)  due \(due)  \(basis)")
            }
        }
        if !json && weeks.contains(where: { calendar.basis(of: $0) == .statutory }) {
            print("statutory: provisional, \(Self.provisionalReason(calendar))")
        }
    }

    static func provisionalReason(_ calendar: WorkCalendar) -> String {
        "calendar.csv covers \(calendar.coveredYears.lowerBound)–\(calendar.coveredYears.upperBound); other years have "
            + "the weekends and statutory holidays off, without the State Council's bridge days and make-up working days"
    }

    /// `baocuo calendar check [--file F]`.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a calendar file (default: calendar.csv of the configuration folder).",
            discussion: """
                Checks what loading checks (header, dates, kinds, no date twice, no year without dates) and what a \
                transcribed State Council schedule never lacks: every statutory day off of each listed year is a \
                holiday, and every make-up working day (workday) is a Saturday or Sunday. Prints every problem as \
                FILE:LINE: REASON. Exit status: 0 the file is valid, 1 it has problems, 2 it cannot be read, \
                64 usage error.
                """
        )

        @Option(name: .long, help: "The calendar file to check.")
        var file: String?

        @OptionGroup var configOptions: ConfigOptions

        func run() throws {
            let path =
                file
                ?? DomainConfiguration.path(
                    configOptions.config ?? DomainConfiguration.defaultDirectory(),
                    DomainConfiguration.calendarFile)
            let text: String
            do {
                text = try DomainConfiguration.read(path)
            } catch {
                print("calendar: \(error)")
                throw ExitCode(2)
            }
            let problems = WorkCalendar.check(csv: text, source: path)
            guard problems.isEmpty else {
                for problem in problems { print(problem) }
                print("calendar: \(path): \(problems.count) problem\(problems.count == 1 ? "" : "s")")
                throw ExitCode(1)
            }
            let calendar = try WorkCalendar(csv: text, source: path)
            let years = calendar.coveredYears
            print(
                "calendar: \(path) is valid: covers \(years.lowerBound)–\(years.upperBound); "
                    + "\(years.upperBound + 1) and later provisional (statutory holidays only)")
        }
    }
}
