import Testing

@testable import BaocuoDomain

/// The statutory holidays (CONTRACT §6, amended 2026-12-06) against the published 2021–2026
/// schedules of `Config/calendar.csv` and independently known dates.
@Suite struct StatutoryHolidaysTests {
    typealias Occasion = StatutoryHolidays.Occasion

    /// The file's holiday dates by year and occasion.
    static func fileHolidays() throws -> [Int: [Occasion: Set<CivilDate>]] {
        var result: [Int: [Occasion: Set<CivilDate>]] = [:]
        for line in try RegionCalendarFixtures.configFile("calendar.csv").split(whereSeparator: \.isNewline).dropFirst() {
            let fields = line.split(separator: ",").map(String.init)
            guard fields[1] == "holiday" else { continue }
            let date = try #require(CivilDate(iso: fields[0]))
            let occasion = try #require(Occasion(rawValue: fields[2]), "unknown occasion \(fields[2])")
            result[date.year, default: [:]][occasion, default: []].insert(date)
        }
        return result
    }

    static func dates(_ texts: [String]) -> [CivilDate] { texts.map { CivilDate(iso: $0)! } }

    @Test(arguments: 2021...2026)
    func everyStatutoryDayIsInTheFilesHolidayOfThatOccasion(year: Int) throws {
        // Every Spring Festival, Qingming, Dragon Boat and Mid-Autumn block of the file (and the
        // fixed-date holidays) holds the days computed for it; for 2021–2024 by the 2013 rules.
        let file = try #require(try Self.fileHolidays()[year])
        let holidays = StatutoryHolidays(year: year)
        #expect(
            holidays.holidays.map(\.occasion).sorted { $0.rawValue < $1.rawValue }
                == Occasion.allCases.sorted { $0.rawValue < $1.rawValue })
        for holiday in holidays.holidays {
            let block = try #require(file[holiday.occasion], "\(year) \(holiday.occasion)")
            for day in holiday.days {
                #expect(block.contains(day), "\(year) \(holiday.occasion.rawValue): \(day) is not among the file's \(block.sorted())")
            }
        }
    }

    @Test func lunarFestivalsAndQingmingOf2021To2028() {
        let festivals = (2021...2028).map { LunarFestivals(year: $0) }
        #expect(
            festivals.map(\.springFestival)
                == Self.dates([
                    "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26",
                ]))
        #expect(
            festivals.map(\.dragonBoat)
                == Self.dates([
                    "2021-06-14", "2022-06-03", "2023-06-22", "2024-06-10", "2025-05-31", "2026-06-19", "2027-06-09", "2028-05-28",
                ]))
        #expect(
            festivals.map(\.midAutumn)
                == Self.dates([
                    "2021-09-21", "2022-09-10", "2023-09-29", "2024-09-17", "2025-10-06", "2026-09-25", "2027-09-15", "2028-10-03",
                ]))
        #expect(
            (2021...2028).map(SolarTerms.qingming)
                == Self.dates([
                    "2021-04-04", "2022-04-05", "2023-04-05", "2024-04-04", "2025-04-04", "2026-04-05", "2027-04-05", "2028-04-04",
                ]))
    }

    @Test func qingmingAgreesWithTheShouxingFormula() {
        // 寿星's rule for the 21st century: day = ⌊Y·0.2422 + 4.81⌋ − ⌊Y/4⌋ of April, Y = year − 2000.
        for year in 2000...2060 {
            let y = year - 2000
            let formula = Int(Double(y) * 0.2422 + 4.81) - y / 4
            #expect(SolarTerms.qingming(year: year) == CivilDate(year: year, month: 4, day: formula), "\(year)")
        }
        // Published instants (Beijing time): 2023-04-05 09:13, 2024-04-04 15:02.
        let instant2024 = SolarTerms.instant(longitude: 15, near: CivilDate(year: 2024, month: 4, day: 4)!)
        let published2024 = Timestamp.parseRFC3339("2024-04-04T15:02:00+08:00")!
        #expect(abs(instant2024.millisecondsSinceEpoch - published2024.millisecondsSinceEpoch) < 15 * 60_000)
    }

    @Test func the2027DaysOffWithDaysInLieu() {
        let holidays = StatutoryHolidays(year: 2027)
        #expect(
            holidays.daysOff.sorted()
                == Self.dates([
                    "2027-01-01",  // 元旦, Friday
                    "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10",  // 除夕…初三, 2 in lieu
                    "2027-04-05",  // 清明, Monday
                    "2027-05-01", "2027-05-02", "2027-05-03", "2027-05-04",  // Sat–Sun, 2 in lieu
                    "2027-06-09", "2027-09-15",  // 端午, 中秋 (Wednesdays)
                    "2027-10-01", "2027-10-02", "2027-10-03", "2027-10-04", "2027-10-05",  // Fri–Sun, 2 in lieu
                ]))
        #expect(
            holidays.daysInLieu.map(\.occasion) == [.springFestival, .springFestival, .labourDay, .labourDay, .nationalDay, .nationalDay])
    }

    @Test func overlappingAndAdjacentHolidays() {
        // 2028: 元旦 on a Saturday → Monday 3 January; 端午 on Sunday 28 May → Monday 29 May; 中秋 on 3 October is a 国庆 day and counts once;
        // 国庆's Sunday gives Wednesday 4 October.
        let holidays = StatutoryHolidays(year: 2028)
        #expect(holidays.daysInLieu.map(\.date) == Self.dates(["2028-01-03", "2028-05-29", "2028-10-04"]))
        #expect(
            holidays.daysOff.filter { $0.month == 10 }.sorted() == Self.dates(["2028-10-01", "2028-10-02", "2028-10-03", "2028-10-04"]))
        // 2034: 元旦 Sunday → Monday 2 January.
        #expect(StatutoryHolidays(year: 2034).daysInLieu.first?.date == CivilDate(year: 2034, month: 1, day: 2))
    }

    @Test func the2013RulesBefore2025() {
        let old = StatutoryHolidays(year: 2024)
        #expect(old.holidays.first { $0.occasion == .springFestival }?.days == Self.dates(["2024-02-10", "2024-02-11", "2024-02-12"]))
        #expect(old.holidays.first { $0.occasion == .labourDay }?.days == Self.dates(["2024-05-01"]))
        let new = StatutoryHolidays(year: 2025)
        #expect(new.holidays.first { $0.occasion == .springFestival }?.days.first == CivilDate(year: 2025, month: 1, day: 28))
        #expect(new.holidays.first { $0.occasion == .labourDay }?.days.count == 2)
    }
}

/// `WorkCalendar.check`, behind `baocuo calendar check`.
@Suite struct CalendarFileCheckTests {
    static let header = "date,kind,occasion\n"

    /// The 2027 statutory days off as a schedule would list them, without days in lieu.
    static let statutory2027 = StatutoryHolidays(year: 2027).holidays.flatMap { holiday in
        holiday.days.map { "\($0),holiday,\(holiday.occasion.rawValue)\n" }
    }.joined()

    @Test func theShippedFileIsClean() throws {
        #expect(WorkCalendar.check(csv: try RegionCalendarFixtures.configFile("calendar.csv"), source: "calendar.csv").isEmpty)
    }

    @Test func aScheduleWithTheStatutoryDaysIsClean() {
        #expect(WorkCalendar.check(csv: Self.header + Self.statutory2027 + "2027-02-20,workday,Spring Festival\n", source: "c.csv") == [])
    }

    @Test func reportsEveryProblemWithFileAndLine() {
        let csv =
            Self.header
            + Self.statutory2027.replacingOccurrences(of: "2027-02-05,holiday,Spring Festival\n", with: "")  // 除夕 missing
            .replacingOccurrences(of: "2027-04-05,holiday,Tomb-sweeping Day\n", with: "2027-04-05,workday,Tomb-sweeping Day\n")
            + "2027-02-17,workday,Spring Festival\n"  // a Wednesday
            + "2027-10-01,holiday,National Day\n"  // twice
            + "2027-13-01,holiday,x\n"
        let problems = WorkCalendar.check(csv: csv, source: "c.csv").map(\.description)
        #expect(
            problems == [
                // Reported at the holiday's first listed day (line 3, 6 February).
                "c.csv:3: 2027-02-05 is a statutory day off of 2027's Spring Festival but is not listed: expected 2027-02-05,holiday,Spring Festival",
                "c.csv:6: make-up working day 2027-04-05 is a Monday: make-up days fall on a Saturday or Sunday",
                "c.csv:6: 2027-04-05 is a statutory day off of 2027's Tomb-sweeping Day but is listed as a workday: expected 2027-04-05,holiday,Tomb-sweeping Day",
                "c.csv:14: make-up working day 2027-02-17 is a Wednesday: make-up days fall on a Saturday or Sunday",
                "c.csv:15: duplicate date 2027-10-01 (first on line 11)",
                "c.csv:16: bad date \"2027-13-01\": expected YYYY-MM-DD",
            ])
    }

    @Test func fileLevelProblems() {
        #expect(WorkCalendar.check(csv: "day,kind\n", source: "c.csv").map(\.line) == [1])
        #expect(WorkCalendar.check(csv: Self.header, source: "c.csv").first?.reason.hasPrefix("no dates") == true)
    }
}

@Suite struct CalendarHorizonTests {
    @Test func warnsFromTheFirstOfNovemberOfTheLastCoveredYear() throws {
        let horizon = CalendarHorizon(calendar: try RegionCalendarFixtures.workCalendar())
        #expect(horizon.coveredYears == 2021...2026)
        #expect(horizon.firstProvisionalYear == 2027)
        #expect(horizon.summary == "covers 2021–2026 (published); 2027 and later provisional (weekends and statutory holidays only)")
        #expect(horizon.coveredUntil == Timestamp.parseRFC3339("2027-01-01T00:00:00+08:00"))
        let before = try #require(Timestamp.parseRFC3339("2026-10-31T23:59:59+08:00"))
        let from = try #require(Timestamp.parseRFC3339("2026-11-01T00:00:00+08:00"))
        let today = try #require(Timestamp.parseRFC3339("2026-12-06T17:51:00Z"))
        #expect(horizon.warning(at: before) == nil)
        #expect(horizon.readinessDetail(at: before) == nil)
        #expect(horizon.warning(at: from)?.hasPrefix("calendar.csv ends with 2026: 2027's cycles are provisional") == true)
        #expect(horizon.warning(at: today)?.contains("Load next year's holiday schedule") == true)
        #expect(horizon.readinessDetail(at: today) == "calendar: 2027 provisional, calendar.csv ends with 2026")
    }
}
