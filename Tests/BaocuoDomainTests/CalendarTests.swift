import Synchronization
import Testing

@testable import BaocuoDomain

private let shanghai = 8 * 3600

private func instant(_ text: String) throws -> Timestamp {
    try #require(Timestamp.parseRFC3339(text), "bad test timestamp \(text)")
}

private func date(_ text: String) throws -> CivilDate {
    try #require(CivilDate(iso: text), "bad test date \(text)")
}

private func week(_ text: String) throws -> IsoWeek {
    try #require(IsoWeek(text), "bad test week \(text)")
}

/// The cycle as the contract writes it: batch, intake and due in +08:00.
private func contractFields(_ cycle: WeeklyCycle?) -> [String]? {
    cycle.map { [$0.week.description, $0.intakeAt.rfc3339(utcOffsetSeconds: shanghai), $0.dueBy.rfc3339(utcOffsetSeconds: shanghai)] }
}

@Suite struct IsoWeekTests {
    @Test(arguments: [
        ("2026-11-23", "2026-W48"), ("2026-11-30", "2026-W49"),
        ("2026-12-31", "2026-W53"), ("2027-01-01", "2026-W53"), ("2027-01-03", "2026-W53"), ("2027-01-04", "2027-W01"),
        ("2025-12-29", "2026-W01"), ("2024-12-30", "2025-W01"),
        ("2020-12-31", "2020-W53"), ("2021-01-03", "2020-W53"), ("2021-01-04", "2021-W01"),
        ("2008-12-29", "2009-W01"), ("2010-01-03", "2009-W53"),
    ])
    func weekOfADate(day: String, expected: String) throws {
        #expect(try date(day).isoWeek.description == expected)
    }

    @Test func weeksPerYear() {
        #expect(IsoWeek.weeks(inYear: 2020) == 53)  // leap year starting on a Wednesday
        #expect(IsoWeek.weeks(inYear: 2026) == 53)  // starts on a Thursday
        #expect(IsoWeek.weeks(inYear: 2015) == 53)
        #expect(IsoWeek.weeks(inYear: 2021) == 52)
        #expect(IsoWeek.weeks(inYear: 2025) == 52)
    }

    @Test func parsesAndValidates() throws {
        #expect(IsoWeek("2026-W49") == IsoWeek(year: 2026, week: 49))
        #expect(IsoWeek("2026-W53") != nil)
        for bad in ["2025-W53", "2026-W54", "2026-W00", "2026-W4", "2026W49", "2026-w49", "26-W49", "2026-W4x", " 2026-W49"] {
            #expect(IsoWeek(bad) == nil, "\(bad)")
        }
        #expect(IsoWeek(year: 2026, week: 9)?.description == "2026-W09")
    }

    @Test func mondaysAndNeighbours() throws {
        #expect(try week("2026-W01").monday == date("2025-12-29"))
        #expect(try week("2020-W53").monday == date("2020-12-28"))
        #expect(try week("2026-W49").day(5) == date("2026-12-04"))
        #expect(try week("2026-W53").next == week("2027-W01"))
        #expect(try week("2021-W01").previous == week("2020-W53"))
        #expect(try week("2026-W52") < week("2026-W53"))
        #expect(try week("2026-W53") < week("2027-W01"))
    }

    @Test func everyDayOfSixYearsRoundTrips() throws {
        // Each date lies in the week whose Monday…Sunday contain it, and week text round-trips.
        var day = try date("2020-01-01")
        while day.year < 2028 {
            let isoWeek = day.isoWeek
            #expect(isoWeek.day(day.isoWeekday) == day)
            #expect(IsoWeek(isoWeek.description) == isoWeek)
            day = day.adding(days: 1)
        }
    }
}

@Suite struct WorkCalendarTests {
    let calendar: WorkCalendar

    init() throws { calendar = try RegionCalendarFixtures.workCalendar() }

    // MARK: CONTRACT §6 examples

    @Test func contractExampleOfAReceivedReport() throws {
        let cycle = calendar.cycle(receivedAt: try instant("2026-11-23T09:15:00+08:00"))
        #expect(contractFields(cycle) == ["2026-W49", "2026-11-30T09:00:00+08:00", "2026-12-04T16:00:00+08:00"])
        #expect(cycle.intakeDay == (try date("2026-11-30")))
    }

    @Test func contractExamplesOfNationalDay() throws {
        #expect(
            contractFields(calendar.cycle(for: try week("2026-W40")))
                == ["2026-W40", "2026-09-28T09:00:00+08:00", "2026-09-30T16:00:00+08:00"])
        #expect(
            contractFields(calendar.cycle(for: try week("2026-W41")))
                == ["2026-W41", "2026-10-08T09:00:00+08:00", "2026-10-09T16:00:00+08:00"])
    }

    @Test func contractExampleOfAWeekWithoutCycle() throws {
        #expect(calendar.cycle(for: try week("2026-W08")) == nil)
        let w09 = ["2026-W09", "2026-02-24T09:00:00+08:00", "2026-02-27T16:00:00+08:00"]
        // Everything after the W07 intake, through the whole W08 holiday week, goes to W09.
        for received in [
            "2026-02-09T09:00:00+08:00", "2026-02-13T12:00:00+08:00", "2026-02-18T10:00:00+08:00",
            "2026-02-23T23:59:59+08:00", "2026-02-24T08:59:59.999+08:00",
        ] {
            #expect(contractFields(calendar.cycle(receivedAt: try instant(received))) == w09, "\(received)")
        }
        let w09Cycle = try #require(calendar.cycle(for: try week("2026-W09")))
        #expect(calendar.previousCycle(before: w09Cycle).week == (try week("2026-W07")))
        #expect(calendar.previousCycle(before: w09Cycle).intakeAt == (try instant("2026-02-09T09:00:00+08:00")))
    }

    // MARK: Half-open windows

    @Test func intakeInstantBelongsToTheFollowingIntake() throws {
        #expect(calendar.cycle(receivedAt: try instant("2026-11-30T08:59:59.999+08:00")).week == (try week("2026-W49")))
        #expect(calendar.cycle(receivedAt: try instant("2026-11-30T09:00:00.000+08:00")).week == (try week("2026-W50")))
        #expect(calendar.cycle(receivedAt: try instant("2026-11-30T09:00:00.001+08:00")).week == (try week("2026-W50")))
        // The same in the other zone notation: 01:00Z is 09:00 in Shanghai.
        #expect(calendar.cycle(receivedAt: try instant("2026-11-30T01:00:00Z")).week == (try week("2026-W50")))
    }

    @Test func intakeWindowIsFromThePreviousIntake() throws {
        let cycle = try #require(calendar.cycle(for: try week("2026-W41")))
        let previous = calendar.previousCycle(before: cycle)
        #expect(previous.week == (try week("2026-W40")))
        #expect(calendar.cycle(receivedAt: previous.intakeAt) == cycle)
        #expect(calendar.cycle(receivedAt: Timestamp(millisecondsSinceEpoch: cycle.intakeAt.millisecondsSinceEpoch - 1)) == cycle)
        #expect(calendar.cycle(receivedAt: Timestamp(millisecondsSinceEpoch: previous.intakeAt.millisecondsSinceEpoch - 1)) == previous)
    }

    // MARK: 2026 holiday weeks (dates from Config/calendar.csv)

    @Test(arguments: [
        // New Year: Jan 1–3 holidays; W01 starts Mon 2025-12-29.
        ("2026-W01", "2025-12-29", "2025-12-31"),
        // Spring Festival: Feb 15–23 holidays, Sat Feb 14 and Sat Feb 28 make-up days (weekend: not intake/due).
        ("2026-W07", "2026-02-09", "2026-02-13"), ("2026-W09", "2026-02-24", "2026-02-27"),
        // Qingming: Sat Apr 4 – Mon Apr 6.
        ("2026-W15", "2026-04-07", "2026-04-10"),
        // Labour Day: Fri May 1 – Tue May 5, Sat May 9 make-up day.
        ("2026-W18", "2026-04-27", "2026-04-30"), ("2026-W19", "2026-05-06", "2026-05-08"),
        // Dragon Boat: Fri Jun 19 – Sun Jun 21.
        ("2026-W25", "2026-06-15", "2026-06-18"),
        // Mid-Autumn: Fri Sep 25 – Sun Sep 27 (Sun Sep 20 make-up day lies in W38).
        ("2026-W38", "2026-09-14", "2026-09-18"), ("2026-W39", "2026-09-21", "2026-09-24"),
        // National Day: Oct 1–7, Sat Oct 10 make-up day.
        ("2026-W40", "2026-09-28", "2026-09-30"), ("2026-W41", "2026-10-08", "2026-10-09"),
    ])
    func holidayWeek(weekText: String, intake: String, due: String) throws {
        let cycle = try #require(calendar.cycle(for: try week(weekText)))
        #expect(cycle.intakeDay == (try date(intake)))
        #expect(cycle.intakeAt.rfc3339(utcOffsetSeconds: shanghai) == "\(intake)T09:00:00+08:00")
        #expect(cycle.dueBy.rfc3339(utcOffsetSeconds: shanghai) == "\(due)T16:00:00+08:00")
    }

    @Test func workingDaysFollowTheFile() throws {
        #expect(calendar.isWorkingDay(try date("2026-10-01")) == false)  // holiday, Thursday
        #expect(calendar.isWorkingDay(try date("2026-10-10")) == true)  // make-up workday, Saturday
        #expect(calendar.isWorkingDay(try date("2026-10-11")) == false)  // plain Sunday
        #expect(calendar.isWorkingDay(try date("2026-10-12")) == true)  // plain Monday
        #expect(calendar.isWorkingDay(try date("2021-02-07")) == true)  // make-up workday, Sunday
    }

    @Test func everyCoveredWeekObeysTheRules() throws {
        // Independent of the table: intake is the first working weekday, due the last one, and
        // a week has no cycle only when none of its weekdays works.
        var isoWeek = try week("2021-W01")
        var weeksWithoutCycle: [String] = []
        while isoWeek <= (try week("2026-W52")) {
            let weekdays = (1...5).map { isoWeek.day($0) }
            let working = weekdays.filter(calendar.isWorkingDay)
            if let cycle = calendar.cycle(for: isoWeek) {
                #expect(cycle.intakeDay == working.first, "\(isoWeek)")
                #expect(cycle.dueBy == Timestamp(date: working.last!, secondsIntoDay: 16 * 3600, utcOffsetSeconds: shanghai), "\(isoWeek)")
                #expect(cycle.week == isoWeek)
            } else {
                #expect(working.isEmpty, "\(isoWeek)")
                weeksWithoutCycle.append(isoWeek.description)
            }
            isoWeek = isoWeek.next
        }
        // Spring Festival and National Day weeks whose five weekdays are all holidays.
        #expect(weeksWithoutCycle == ["2022-W05", "2022-W40", "2023-W04", "2023-W40", "2024-W07", "2026-W08"])
    }

    @Test func receivedAtLookupMatchesAScanOfAllCycles() throws {
        // The precomputed table against the definition: the first intake strictly after receivedAt.
        let all = calendar.cycles(from: try week("2020-W53"), through: try week("2029-W02"))
        var millis = try instant("2021-01-01T00:00:00+08:00").millisecondsSinceEpoch
        let end = try instant("2028-12-31T23:59:59+08:00").millisecondsSinceEpoch
        while millis < end {
            let received = Timestamp(millisecondsSinceEpoch: millis)
            let expected = all.first { $0.intakeAt > received }
            #expect(calendar.cycle(receivedAt: received) == expected, "\(received)")
            millis += 7_919_993  // about 2.2 hours, a prime number of ms so that times of day vary
        }
        for cycle in all where cycle.week.year >= 2021 && cycle.week.year <= 2028 {
            let before = Timestamp(millisecondsSinceEpoch: cycle.intakeAt.millisecondsSinceEpoch - 1)
            #expect(calendar.cycle(receivedAt: before) == cycle)
            #expect(calendar.cycle(receivedAt: cycle.intakeAt) == all.first { $0.intakeAt > cycle.intakeAt })
        }
    }

    @Test func cyclesOverARange() throws {
        let cycles = calendar.cycles(from: try week("2026-W07"), through: try week("2026-W10"))
        #expect(cycles.map(\.week.description) == ["2026-W07", "2026-W09", "2026-W10"])
        #expect(calendar.cycles(from: try week("2026-W10"), through: try week("2026-W07")).isEmpty)
    }

    // MARK: The shared samples

    @Test func samplesGetTheirExpectedBatch() throws {
        for sample in try RegionCalendarFixtures.routedSamples() {
            let reportedAt = try instant(try #require(sample.reportString("reportedAt")))
            let expected = ["intakeBatch", "intakeAt", "dueBy"].map { sample.expectedString($0) }
            #expect(contractFields(calendar.cycle(receivedAt: reportedAt)) == expected.compactMap { $0 }, "line \(sample.line)")
        }
    }
}

@Suite struct WorkCalendarCoverageTests {
    final class Warnings: Sendable {
        let messages = Mutex<[String]>([])
        func append(_ message: String) { messages.withLock { $0.append(message) } }
        var all: [String] { messages.withLock { $0 } }
    }

    @Test func yearsBeyondTheFileHaveTheStatutoryHolidaysAndWarnOncePerYear() throws {
        let warnings = Warnings()
        let calendar = try RegionCalendarFixtures.workCalendar(warn: warnings.append)
        #expect(calendar.coveredYears == 2021...2026)
        #expect(calendar.statutoryYears == 2027...2028)
        #expect(calendar.coveredUntil == (try date("2026-12-31")))
        _ = calendar.cycle(receivedAt: try instant("2026-06-01T10:00:00+08:00"))

        // CONTRACT §6 (amended 2026-12-06) examples: 2027 is not in the file, its statutory days are.
        #expect(!calendar.isWorkingDay(try date("2027-01-01")))
        let w53 = calendar.cycle(receivedAt: try instant("2026-12-25T17:00:00+08:00"))
        #expect(contractFields(w53) == ["2026-W53", "2026-12-28T09:00:00+08:00", "2026-12-31T16:00:00+08:00"])
        #expect(
            contractFields(calendar.cycle(receivedAt: try instant("2027-01-26T10:00:00+08:00")))
                == ["2027-W05", "2027-02-01T09:00:00+08:00", "2027-02-04T16:00:00+08:00"])
        #expect(
            contractFields(calendar.cycle(receivedAt: try instant("2027-03-30T10:00:00+08:00")))
                == ["2027-W14", "2027-04-06T09:00:00+08:00", "2027-04-09T16:00:00+08:00"])
        // 春节 2027: 除夕 Fri 5 … 初三 Mon 8 February, Sat 6 and Sun 7 give Tue 9 and Wed 10 off.
        #expect(
            contractFields(calendar.cycle(for: try week("2027-W06")))
                == ["2027-W06", "2027-02-11T09:00:00+08:00", "2027-02-12T16:00:00+08:00"])
        // 国庆 2027: Fri 1 … Sun 3 October, Mon 4 and Tue 5 in lieu of the weekend.
        #expect(
            contractFields(calendar.cycle(for: try week("2027-W40")))
                == ["2027-W40", "2027-10-06T09:00:00+08:00", "2027-10-08T16:00:00+08:00"])
        // Precomputed, so no year is reported as touched.
        _ = calendar.cycles(from: try week("2027-W01"), through: try week("2028-W52"))
        #expect(warnings.all.isEmpty)

        #expect(calendar.basis(of: try week("2026-W52")) == .published)
        #expect(calendar.basis(of: try week("2026-W53")) == .statutory)  // Fri 1 January 2027
        #expect(calendar.basis(of: try week("2027-W14")) == .statutory)
        #expect(calendar.basis(of: try week("2020-W53")) == .statutory)  // Mon–Thu 2020

        // Beyond the precomputed years: computed on first use, reported once per year.
        #expect(!calendar.isWorkingDay(try date("2029-01-01")))
        #expect(
            contractFields(calendar.cycle(for: try week("2029-W07")))  // 除夕 Mon 12 … 初三 Thu 15 February
                == ["2029-W07", "2029-02-16T09:00:00+08:00", "2029-02-16T16:00:00+08:00"])
        #expect(
            warnings.all == [
                "calendar.csv covers 2021–2026; 2029 is provisional: weekends and statutory holidays only, no make-up working days"
            ])
        #expect(
            contractFields(calendar.cycle(receivedAt: try instant("2020-06-01T10:00:00+08:00")))
                == ["2020-W24", "2020-06-08T09:00:00+08:00", "2020-06-12T16:00:00+08:00"])
        #expect(warnings.all.count == 2)
        #expect(warnings.all.last?.contains("; 2020 is provisional") == true)
    }

    @Test func precomputedStatutoryYearsMatchTheRulesComputedOnDemand() throws {
        // 2027–2028 come from the table, a calendar with a file ending two years earlier computes them lazily.
        let calendar = try RegionCalendarFixtures.workCalendar()
        let csv = try RegionCalendarFixtures.configFile("calendar.csv").split(whereSeparator: \.isNewline)
            .filter { !$0.hasPrefix("2025") && !$0.hasPrefix("2026") }.joined(separator: "\n")
        let shorter = try WorkCalendar(csv: csv, source: "calendar.csv")
        #expect(shorter.statutoryYears == 2025...2026)
        var day = try date("2027-01-01")
        while day.year <= 2028 {
            #expect(calendar.isWorkingDay(day) == shorter.isWorkingDay(day), "\(day)")
            day = day.adding(days: 1)
        }
        #expect(
            calendar.cycles(from: try week("2027-W01"), through: try week("2028-W52"))
                == shorter.cycles(from: try week("2027-W01"), through: try week("2028-W52")))
    }

    @Test func concurrentFallbackWarnsOnce() async throws {
        let warnings = Warnings()
        let calendar = try RegionCalendarFixtures.workCalendar(warn: warnings.append)
        let start = try instant("2030-03-01T10:00:00+08:00")
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for day in 0..<50 {
                        let ms = start.millisecondsSinceEpoch + Int64(day * 86_400_000 + task * 3_600_000)
                        _ = calendar.cycle(receivedAt: Timestamp(millisecondsSinceEpoch: ms))
                    }
                }
            }
        }
        #expect(warnings.all.count == 1)
    }

    @Test func customScheduleAndZone() throws {
        let schedule = Schedule(intakeSecondsIntoDay: 8 * 3600 + 30 * 60, returnSecondsIntoDay: 17 * 3600, utcOffsetSeconds: 0)
        let calendar = try WorkCalendar(
            csv: try RegionCalendarFixtures.configFile("calendar.csv"), source: "calendar.csv",
            schedule: schedule)
        let cycle = try #require(calendar.cycle(for: try week("2026-W41")))
        #expect(cycle.intakeAt.rfc3339(utcOffsetSeconds: 0) == "2026-10-08T08:30:00Z")
        #expect(cycle.dueBy.rfc3339(utcOffsetSeconds: 0) == "2026-10-09T17:00:00Z")
        // 08:29 UTC on the intake day is before that intake; it is 16:29 in Shanghai, irrelevant here.
        #expect(calendar.cycle(receivedAt: try instant("2026-10-08T08:29:59Z")) == cycle)
    }
}

@Suite struct WorkCalendarFileErrorTests {
    func error(_ csv: String) -> ConfigError? {
        do {
            _ = try WorkCalendar(csv: csv, source: "calendar.csv")
            return nil
        } catch {
            return error
        }
    }

    @Test func reportsFileLineAndReason() {
        let header = "date,kind,occasion\n"
        #expect(
            error(header + "2026-01-01,holiday,New Year\n2026-02-30,holiday,x\n")?.description
                == #"calendar.csv:3: bad date "2026-02-30": expected YYYY-MM-DD"#)
        #expect(
            error(header + "2026-01-01,vacation,New Year\n")?.description
                == #"calendar.csv:2: unknown kind "vacation": expected holiday or workday"#)
        #expect(error(header + "2026-01-01,holiday\n")?.line == 2)
        #expect(
            error(header + "2026-01-01,holiday,a\n2026-01-01,workday,b\n")?.description
                == "calendar.csv:3: duplicate date 2026-01-01 (first on line 2)")
        #expect(error(header)?.reason.contains("no dates") == true)
        #expect(
            error(header + "2024-01-01,holiday,a\n2026-01-01,holiday,b\n")?.description
                == "calendar.csv: no dates for 2025, between 2024 and 2026")
        #expect(error("day,kind,occasion\n2026-01-01,holiday,a\n")?.line == 1)
    }
}
