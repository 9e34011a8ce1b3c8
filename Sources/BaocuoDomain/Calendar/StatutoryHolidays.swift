import Foundation

/// The public holidays that the law itself fixes for a year (全国年节及纪念日放假办法), without the
/// State Council's annual schedule: used for the years `Config/calendar.csv` does not cover
/// (CONTRACT §6, amended 2026-12-06).
///
/// As amended in 2024 (in force from 2025): 元旦 1 January; 春节 农历除夕 to 正月初三 (4 days);
/// 清明 the day of the Qingming solar term; 劳动节 1–2 May; 端午 农历五月初五; 中秋 农历八月十五;
/// 国庆 1–3 October. Years before 2025 follow the 2013 text (春节 正月初一 to 初三, 劳动节 1 May),
/// which is what `baocuo calendar check` holds the 2021–2024 schedules to.
///
/// A statutory day on a Saturday or Sunday gives one day off in lieu (补假) on the first working
/// day after that holiday's block (2027 春节: 5–8 February, of which 6–7 fall on the weekend, so
/// 9–10 February are off too). Holidays are taken in date order, so a later holiday's days in lieu
/// come after an earlier one's.
///
/// **Provisional.** The annual schedule adds what the law leaves open — days bridged to make a
/// longer break and the weekend make-up working days (调休) that pay for them — and these are
/// unknown until the State Council publishes it, late in the year before. A year computed here has
/// no make-up working days; its cycles are marked `CycleBasis.statutory` until the schedule is
/// loaded into the calendar file.
public struct StatutoryHolidays: Sendable, Equatable {
    /// The holidays, named as `Config/calendar.csv`'s `occasion` column names them.
    public enum Occasion: String, Sendable, CaseIterable {
        /// 元旦, 1 January.
        case newYear = "New Year's Day"
        /// 春节: the 1st–3rd days of the first lunar month, and the eve (除夕) before them from 2025.
        case springFestival = "Spring Festival"
        /// 清明节, the day of the Qingming solar term (early April).
        case qingming = "Tomb-sweeping Day"
        /// 劳动节, 1 May (and 2 May from 2025).
        case labourDay = "Labour Day"
        /// 端午节, the 5th day of the 5th lunar month.
        case dragonBoat = "Dragon Boat Festival"
        /// 中秋节, the 15th day of the 8th lunar month.
        case midAutumn = "Mid-autumn Festival"
        /// 国庆节, 1–3 October.
        case nationalDay = "National Day"
    }

    /// A holiday's statutory days.
    public struct Holiday: Sendable, Equatable {
        /// The holiday these days belong to.
        public let occasion: Occasion
        /// Consecutive days, in order.
        public let days: [CivilDate]
    }

    /// The calendar year these holidays are computed for.
    public let year: Int
    /// The statutory days by holiday, in date order.
    public let holidays: [Holiday]
    /// The days off in lieu of statutory days that fall on a weekend, in order, with their holiday.
    public let daysInLieu: [(date: CivilDate, occasion: Occasion)]

    /// The first year of the 2024 amendment (除夕 and 2 May became statutory days).
    public static let amendedFrom = 2025

    /// The statutory holidays and days in lieu of `year`, computed from the law (the amended rules from 2025).
    public init(year: Int) {
        self.year = year
        let festivals = LunarFestivals(year: year)
        let amended = year >= Self.amendedFrom
        func days(_ first: CivilDate, _ count: Int) -> [CivilDate] { (0..<count).map { first.adding(days: $0) } }
        func date(_ month: Int, _ day: Int) -> CivilDate { CivilDate(year: year, month: month, day: day)! }
        holidays = [
            Holiday(occasion: .newYear, days: [date(1, 1)]),
            Holiday(
                occasion: .springFestival,
                days: amended ? days(festivals.springFestival.adding(days: -1), 4) : days(festivals.springFestival, 3)),
            Holiday(occasion: .qingming, days: [SolarTerms.qingming(year: year)]),
            Holiday(occasion: .labourDay, days: days(date(5, 1), amended ? 2 : 1)),
            Holiday(occasion: .dragonBoat, days: [festivals.dragonBoat]),
            Holiday(occasion: .midAutumn, days: [festivals.midAutumn]),
            Holiday(occasion: .nationalDay, days: days(date(10, 1), 3)),
        ].sorted { $0.days[0] < $1.days[0] }

        // 中秋 can fall within 国庆 (2028-10-03): a day counts once, for the earlier holiday.
        let statutory = Set(holidays.flatMap(\.days))
        var counted = Set<CivilDate>()
        var taken = statutory
        var inLieu: [(date: CivilDate, occasion: Occasion)] = []
        for holiday in holidays {
            let weekendDays = holiday.days.filter { counted.insert($0).inserted && $0.isoWeekday >= 6 }.count
            var day = holiday.days.last!
            for _ in 0..<weekendDays {
                repeat { day = day.adding(days: 1) } while day.isoWeekday >= 6 || taken.contains(day)
                taken.insert(day)
                inLieu.append((day, holiday.occasion))
            }
        }
        daysInLieu = inLieu
    }

    /// Every non-working weekday and weekend day the law gives: the statutory days and the days in lieu.
    public var daysOff: Set<CivilDate> {
        Set(holidays.flatMap(\.days)).union(daysInLieu.map(\.date))
    }

    /// Equal when the year, holidays and days in lieu (dates and occasions) are equal.
    public static func == (lhs: StatutoryHolidays, rhs: StatutoryHolidays) -> Bool {
        lhs.year == rhs.year && lhs.holidays == rhs.holidays
            && lhs.daysInLieu.map(\.date) == rhs.daysInLieu.map(\.date)
            && lhs.daysInLieu.map(\.occasion) == rhs.daysInLieu.map(\.occasion)
    }
}

/// The Gregorian dates of the lunar festivals of a Gregorian year, from Foundation's Chinese
/// calendar (ICU's `ChineseCalendar`, the same astronomical lunisolar calendar on Linux and Darwin,
/// reckoned at UTC+8 as GB/T 33661-2017 prescribes).
struct LunarFestivals {
    /// 正月初一 (春节); 除夕 is the day before it.
    let springFestival: CivilDate
    /// 五月初五 (端午), of the regular fifth month, never a leap one.
    let dragonBoat: CivilDate
    /// 八月十五 (中秋).
    let midAutumn: CivilDate

    private static let chinese: Calendar = {
        var calendar = Calendar(identifier: .chinese)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        return calendar
    }()

    init(year: Int) {
        // Each festival lies within a month-wide window of the Gregorian year (1 正月 falls between
        // 21 January and 20 February, 五月初五 between 28 May and 25 June, 八月十五 between
        // 8 September and 8 October); the windows are scanned with margin.
        springFestival = Self.find(month: 1, day: 1, from: CivilDate(year: year, month: 1, day: 15)!, days: 45)
        dragonBoat = Self.find(month: 5, day: 5, from: CivilDate(year: year, month: 5, day: 20)!, days: 45)
        midAutumn = Self.find(month: 8, day: 15, from: CivilDate(year: year, month: 9, day: 1)!, days: 45)
    }

    private static func find(month: Int, day: Int, from first: CivilDate, days: Int) -> CivilDate {
        for offset in 0..<days {
            let date = first.adding(days: offset)
            // Noon in UTC+8, well inside the day whatever the calendar's day boundary.
            let instant = Date(timeIntervalSince1970: TimeInterval(date.daysSinceEpoch * 86_400 + 4 * 3600))
            let lunar = chinese.dateComponents([.month, .day, .isLeapMonth], from: instant)
            if lunar.month == month && lunar.day == day && lunar.isLeapMonth != true { return date }
        }
        preconditionFailure("no lunar \(month)/\(day) within \(days) days from \(first): Foundation's Chinese calendar is broken")
    }
}

/// The 24 solar terms (节气) are instants at which the Sun's apparent ecliptic longitude reaches a
/// multiple of 15°; 清明 is 15°. Foundation exposes no solar terms, so the instant is computed with
/// Jean Meeus, *Astronomical Algorithms* (2nd ed., 1998), chapter 25, "low accuracy" solar
/// coordinates (about 0.01°, i.e. within a quarter of an hour), with ΔT from Espenak & Meeus's
/// polynomial for 2005–2050, and the date taken in Beijing time (UTC+8). Checked against the
/// file's 2021–2026 Qingming holidays and the 寿星 formula for 2000–2060; the closest of these
/// instants to midnight in 2021–2060 is 2038-04-05 00:22.
enum SolarTerms {
    /// The day of the Qingming solar term (Sun's apparent longitude 15°), in Beijing time.
    static func qingming(year: Int) -> CivilDate {
        let instant = instant(longitude: 15, near: CivilDate(year: year, month: 4, day: 4)!)
        return instant.civilDate(utcOffsetSeconds: 8 * 3600)
    }

    /// The instant, near `date`, at which the Sun's apparent longitude is `longitude` degrees.
    static func instant(longitude: Double, near date: CivilDate) -> Timestamp {
        let deltaT = deltaTSeconds(year: Double(date.year)) / 86_400
        var julianEphemerisDay = Double(date.daysSinceEpoch) + 2_440_587.5 + deltaT
        for _ in 0..<8 {
            var difference = (longitude - apparentLongitude(julianEphemerisDay: julianEphemerisDay)).truncatingRemainder(dividingBy: 360)
            if difference > 180 { difference -= 360 } else if difference < -180 { difference += 360 }
            julianEphemerisDay += difference / 360 * 365.2422
        }
        let universalDays = julianEphemerisDay - deltaT - 2_440_587.5
        return Timestamp(millisecondsSinceEpoch: Int64((universalDays * 86_400_000).rounded()))
    }

    /// Meeus ch. 25: the Sun's apparent longitude in degrees, corrected for nutation and aberration.
    static func apparentLongitude(julianEphemerisDay: Double) -> Double {
        let t = (julianEphemerisDay - 2_451_545.0) / 36_525
        let meanLongitude = 280.466_46 + 36_000.769_83 * t + 0.000_303_2 * t * t
        let meanAnomaly = (357.529_11 + 35_999.050_29 * t - 0.000_153_7 * t * t) * .pi / 180
        let center =
            (1.914_602 - 0.004_817 * t - 0.000_014 * t * t) * sin(meanAnomaly)
            + (0.019_993 - 0.000_101 * t) * sin(2 * meanAnomaly) + 0.000_289 * sin(3 * meanAnomaly)
        let omega = (125.04 - 1_934.136 * t) * .pi / 180
        let longitude = (meanLongitude + center - 0.005_69 - 0.004_78 * sin(omega)).truncatingRemainder(dividingBy: 360)
        return longitude < 0 ? longitude + 360 : longitude
    }

    /// ΔT = TT − UT in seconds (Espenak & Meeus, NASA 2006, for 2005–2050; beyond it the error is
    /// a few minutes by 2060, small against a term's distance from midnight).
    static func deltaTSeconds(year: Double) -> Double {
        let t = year - 2000
        return 62.92 + 0.322_17 * t + 0.005_589 * t * t
    }
}
