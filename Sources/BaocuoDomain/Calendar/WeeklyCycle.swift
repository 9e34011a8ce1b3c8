/// When the weekly cycle happens within a day, in the service's fixed-offset time zone.
public struct Schedule: Sendable, Hashable {
    /// Local time of the weekly intake, in seconds after midnight (default 09:00).
    public var intakeSecondsIntoDay: Int
    /// Local time of the return deadline, in seconds after midnight (default 16:00).
    public var returnSecondsIntoDay: Int
    /// The zone's offset east of UTC (default 28800: Asia/Shanghai, which has no DST).
    public var utcOffsetSeconds: Int

    /// Both times must lie within a day (`0..<86400`); `BaocuoSettings` checks them as `HH:MM`.
    public init(
        intakeSecondsIntoDay: Int = 9 * 3600, returnSecondsIntoDay: Int = 16 * 3600,
        utcOffsetSeconds: Int = 8 * 3600
    ) {
        precondition(
            (0..<86_400).contains(intakeSecondsIntoDay) && (0..<86_400).contains(returnSecondsIntoDay),
            "schedule times must lie within a day")
        self.intakeSecondsIntoDay = intakeSecondsIntoDay
        self.returnSecondsIntoDay = returnSecondsIntoDay
        self.utcOffsetSeconds = utcOffsetSeconds
    }
}

/// One week's intake and return (CONTRACT §6).
public struct WeeklyCycle: Sendable, Hashable {
    /// The ISO week of the intake day; its text (`2026-W49`) is the `intakeBatch`.
    public let week: IsoWeek
    /// The first working day among Monday–Friday of `week`.
    public let intakeDay: CivilDate
    /// The intake day at the intake time. The cycle takes the reports received in
    /// `[previous cycle's intakeAt, intakeAt)`.
    public let intakeAt: Timestamp
    /// The return time on the last working day among the intake day … Friday of `week`.
    public let dueBy: Timestamp

    /// A cycle from its parts, taken as given; `WorkCalendar` computes them.
    public init(week: IsoWeek, intakeDay: CivilDate, intakeAt: Timestamp, dueBy: Timestamp) {
        self.week = week
        self.intakeDay = intakeDay
        self.intakeAt = intakeAt
        self.dueBy = dueBy
    }
}
