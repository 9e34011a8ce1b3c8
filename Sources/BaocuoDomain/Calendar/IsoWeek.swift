/// An ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday),
/// written `YYYY-Www`, e.g. `2026-W49`. It names a weekly cycle's intake batch.
public struct IsoWeek: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    /// The ISO week-numbering year, which differs from the calendar year around 1 January.
    public let year: Int
    /// 1...52 or 1...53.
    public let week: Int

    /// Nil when `week` is not a week of `year` (e.g. `2026-W54`, `2025-W53`).
    public init?(year: Int, week: Int) {
        guard (1...9999).contains(year), week >= 1, week <= IsoWeek.weeks(inYear: year) else { return nil }
        self.year = year
        self.week = week
    }

    /// The week that contains `date`.
    public init(containing date: CivilDate) {
        // The week belongs to the year of its Thursday.
        let thursday = date.adding(days: 4 - date.isoWeekday)
        let january1 = CivilDate(year: thursday.year, month: 1, day: 1)!
        year = thursday.year
        week = (thursday.daysSinceEpoch - january1.daysSinceEpoch) / 7 + 1
    }

    /// Parses `YYYY-Www` (four-digit year, two-digit week), e.g. `2026-W49`.
    public init?(_ description: String) {
        let bytes = Array(description.utf8)
        guard bytes.count == 8, bytes[4] == UInt8(ascii: "-"), bytes[5] == UInt8(ascii: "W") else { return nil }
        var year = 0
        var week = 0
        for byte in bytes[0..<4] {
            guard byte &- UInt8(ascii: "0") < 10 else { return nil }
            year = year * 10 + Int(byte - UInt8(ascii: "0"))
        }
        for byte in bytes[6..<8] {
            guard byte &- UInt8(ascii: "0") < 10 else { return nil }
            week = week * 10 + Int(byte - UInt8(ascii: "0"))
        }
        self.init(year: year, week: week)
    }

    /// The Monday that starts this week.
    public var monday: CivilDate {
        let january4 = CivilDate(year: year, month: 1, day: 4)!  // always in week 1
        return january4.adding(days: 1 - january4.isoWeekday + (week - 1) * 7)
    }

    /// The day of this week with ISO weekday `weekday` (1 = Monday … 7 = Sunday).
    public func day(_ weekday: Int) -> CivilDate { monday.adding(days: weekday - 1) }

    /// The ISO week after this one (possibly in the next ISO year).
    public var next: IsoWeek { IsoWeek(containing: monday.adding(days: 7)) }
    /// The ISO week before this one (possibly in the previous ISO year).
    public var previous: IsoWeek { IsoWeek(containing: monday.adding(days: -7)) }

    /// 53 when the year starts on a Thursday, or is a leap year starting on a Wednesday; else 52.
    public static func weeks(inYear year: Int) -> Int {
        // Equivalently: the week of 28 December, which is always the year's last week.
        IsoWeek(containing: CivilDate(year: year, month: 12, day: 28)!).week
    }

    /// Orders by ISO year, then week number.
    public static func < (lhs: IsoWeek, rhs: IsoWeek) -> Bool {
        (lhs.year, lhs.week) < (rhs.year, rhs.week)
    }

    /// `YYYY-Www`, e.g. `2026-W49`.
    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(8)
        appendDescription(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `description`'s bytes without creating a string (the routed-record encoder).
    func appendDescription(to out: inout [UInt8]) {
        ByteWriter.append(to: &out, bound: IsoWeek.maxDescriptionLength) { writeDescription(to: &$0) }
    }

    /// Most bytes of `description`: the year in full (`writeDigits`), `-W`, two digits.
    static let maxDescriptionLength = ByteWriter.maxDigitsLength + 4

    /// `appendDescription` for encoders that write a whole record at once.
    func writeDescription(to writer: inout ByteWriter) {
        writer.writeDigits(year, width: 4)
        writer.write("-W" as StaticString)
        writer.writeDigits(week, width: 2)
    }
}

extension CivilDate {
    /// The ISO week this date belongs to.
    public var isoWeek: IsoWeek { IsoWeek(containing: self) }
}
