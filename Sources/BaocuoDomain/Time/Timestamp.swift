/// An instant, in milliseconds since the Unix epoch: the unit of Kafka record timestamps.
///
/// Parsing and formatting are hand-written over UTF-8 bytes because they sit on the
/// per-record hot path (every report carries several timestamps) and Foundation's
/// formatters allocate heavily.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z; negative before the epoch.
    public var millisecondsSinceEpoch: Int64

    /// The instant `millisecondsSinceEpoch` ms after the Unix epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Earlier instants order first.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// RFC 3339 in UTC, e.g. `2026-11-30T01:00:00Z` (milliseconds only when non-zero).
    public var description: String { rfc3339(utcOffsetSeconds: 0) }

    /// The instant at `time` on local `date` in a zone `utcOffsetSeconds` east of UTC.
    public init(date: CivilDate, secondsIntoDay: Int, utcOffsetSeconds: Int) {
        let seconds = Int64(date.daysSinceEpoch) * 86_400 + Int64(secondsIntoDay) - Int64(utcOffsetSeconds)
        self.init(millisecondsSinceEpoch: seconds * 1000)
    }

    /// The local calendar date of this instant in a zone `utcOffsetSeconds` east of UTC.
    public func civilDate(utcOffsetSeconds: Int) -> CivilDate {
        let localSeconds = floorDiv(millisecondsSinceEpoch, 1000) + Int64(utcOffsetSeconds)
        return CivilDate(daysSinceEpoch: Int(floorDiv(localSeconds, 86_400)))
    }

    /// Seconds since local midnight of this instant in the given zone.
    public func secondsIntoDay(utcOffsetSeconds: Int) -> Int {
        let localSeconds = floorDiv(millisecondsSinceEpoch, 1000) + Int64(utcOffsetSeconds)
        return Int(localSeconds - floorDiv(localSeconds, 86_400) * 86_400)
    }

    /// RFC 3339 with an explicit offset, e.g. `2026-11-30T09:00:00+08:00`.
    /// Milliseconds are written only when non-zero.
    public func rfc3339(utcOffsetSeconds: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(29)
        appendRFC3339(to: &bytes, utcOffsetSeconds: utcOffsetSeconds)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Total over every `Int64` (a Kafka record timestamp can be anything): instants outside
    /// years 0000–9999 come out with a longer or negative year rather than trapping.
    public func appendRFC3339(to out: inout [UInt8], utcOffsetSeconds: Int) {
        ByteWriter.append(to: &out, bound: Timestamp.maxRFC3339Length) {
            writeRFC3339(to: &$0, utcOffsetSeconds: utcOffsetSeconds)
        }
    }

    /// Most bytes `writeRFC3339` writes: a 9-digit negative year (an `Int64` of milliseconds
    /// spans ±292 million years), then `-MM-DDTHH:MM:SS.mmm+HH:MM`.
    static let maxRFC3339Length = 40

    /// `appendRFC3339` for encoders that write a whole record at once.
    func writeRFC3339(to writer: inout ByteWriter, utcOffsetSeconds: Int) {
        // Split before adding the offset, so that no step can overflow near Int64.min/max.
        var (seconds, millis) = millisecondsSinceEpoch.quotientAndRemainder(dividingBy: 1000)
        if millis < 0 {
            seconds -= 1
            millis += 1000
        }
        let localSeconds = seconds + Int64(utcOffsetSeconds)
        let days = Int(floorDiv(localSeconds, 86_400))
        let secondOfDay = Int(localSeconds - Int64(days) * 86_400)
        let date = CivilDate(daysSinceEpoch: days)
        writer.writeDigits(date.year, width: 4)
        // `-MM-DDTHH:MM:SS`: every field below 100, so two digits each, written as one run.
        writer.write(byteCount: 15) { out in
            @inline(__always) func field(_ offset: Int, _ separator: UInt8, _ value: Int) {
                out[offset] = separator
                out[offset + 1] = UInt8(truncatingIfNeeded: 0x30 + value / 10)
                out[offset + 2] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
            }
            field(0, UInt8(ascii: "-"), date.month)
            field(3, UInt8(ascii: "-"), date.day)
            field(6, UInt8(ascii: "T"), secondOfDay / 3600)
            field(9, UInt8(ascii: ":"), secondOfDay / 60 % 60)
            field(12, UInt8(ascii: ":"), secondOfDay % 60)
        }
        if millis != 0 {
            writer.write(UInt8(ascii: "."))
            writer.writeDigits(Int(millis), width: 3)
        }
        if utcOffsetSeconds == 0 {
            writer.write(UInt8(ascii: "Z"))
        } else {
            let magnitude = abs(utcOffsetSeconds)
            writer.write(UInt8(ascii: utcOffsetSeconds < 0 ? "-" : "+"))
            writer.writeDigits(magnitude / 3600, width: 2)
            writer.write(UInt8(ascii: ":"))
            writer.writeDigits(magnitude / 60 % 60, width: 2)
        }
    }

    /// Parses RFC 3339 `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. `t`/`z` and a space
    /// separator are accepted as RFC 3339 allows; fractions beyond milliseconds are truncated.
    /// Returns nil for anything else, including out-of-range fields (month 13, 25:00, Feb 30).
    public static func parseRFC3339(_ text: String) -> Timestamp? {
        var text = text
        return text.withUTF8 { parseRFC3339(UnsafeRawBufferPointer($0)) }
    }

    /// ``parseRFC3339(_:)`` on UTF-8 bytes, without making a string.
    public static func parseRFC3339(_ bytes: UnsafeRawBufferPointer) -> Timestamp? {
        let n = bytes.count
        guard n >= 20 else { return nil }
        // Inlined so that each call's loop unrolls for its constant count: several per report.
        @inline(__always) func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for i in start..<(start + count) {
                let c = bytes[i]
                guard c >= 0x30, c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            return value
        }
        guard let year = digits(0, 4), bytes[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), bytes[7] == UInt8(ascii: "-"),
            let day = digits(8, 2),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            let hour = digits(11, 2), bytes[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), bytes[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard let date = CivilDate(year: year, month: month, day: day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var millis = 0
        if index < n, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var fractionDigits = 0
            while index < n, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                if fractionDigits < 3 { millis = millis * 10 + Int(bytes[index] - 0x30) }
                fractionDigits += 1
                index += 1
            }
            guard fractionDigits > 0 else { return nil }
            for _ in fractionDigits..<max(fractionDigits, 3) { millis *= 10 }
        }
        guard index < n else { return nil }
        let offsetSeconds: Int
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            offsetSeconds = 0
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == n, let oh = digits(index + 1, 2), bytes[index + 3] == UInt8(ascii: ":"),
                let om = digits(index + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetSeconds = (bytes[index] == UInt8(ascii: "-") ? -1 : 1) * (oh * 3600 + om * 60)
            index += 6
        default:
            return nil
        }
        guard index == n else { return nil }
        // A leap second (:60) is folded into the next second, as most systems do.
        let secondsIntoDay = hour * 3600 + minute * 60 + second
        let base = Timestamp(date: date, secondsIntoDay: secondsIntoDay, utcOffsetSeconds: offsetSeconds)
        return Timestamp(millisecondsSinceEpoch: base.millisecondsSinceEpoch + Int64(millis))
    }
}

/// A proleptic Gregorian calendar date, without time or zone.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The year, 1…9999.
    public let year: Int
    /// The month, 1…12.
    public let month: Int
    /// The day of the month, from 1.
    public let day: Int

    /// Nil unless the date exists, e.g. not 2026-02-30 and not outside years 1…9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            day >= 1, day <= CivilDate.daysInMonth(year: year, month: month)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(iso text: Substring) {
        var text = text
        guard let date = text.withUTF8({ CivilDate(isoUTF8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = date
    }

    /// Parses `YYYY-MM-DD` from UTF-8 bytes.
    init?(isoUTF8 bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for c in bytes[range] {
                guard c >= 0x30, c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Parses `YYYY-MM-DD`; nil when malformed or not a real date.
    public init?(iso text: String) { self.init(iso: Substring(text)) }

    /// Days since 1970-01-01 to a date (Howard Hinnant's `civil_from_days`).
    public init(daysSinceEpoch: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    public var isoWeekday: Int {
        let d = daysSinceEpoch
        // 1970-01-01 was a Thursday (4).
        return ((d % 7) + 7 + 3) % 7 + 1
    }

    /// The date `days` days later (earlier when negative).
    public func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// Earlier dates order first.
    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    /// `YYYY-MM-DD`, zero-padded.
    public var description: String {
        var out: [UInt8] = []
        appendDigits(&out, year, width: 4)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, month, width: 2)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, day, width: 2)
        return String(decoding: out, as: UTF8.self)
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

@inline(__always)
func appendDigits(_ out: inout [UInt8], _ value: Int, width: Int) {
    ByteWriter.append(to: &out, bound: ByteWriter.maxDigitsLength) { $0.writeDigits(value, width: width) }
}
