/// When weekly batches fall due: a cycle's intake batches once its `intakeAt` plus the settle
/// delay has passed, its return batches once its `dueBy` plus the delay has. Only decides *when*
/// a batch is emitted, never what it contains.
public struct BatchSchedule: Sendable {
    /// The calendar giving each week's cycle (`intakeAt`, `dueBy`).
    public let calendar: WorkCalendar
    /// How many weeks before the current one are still checked at each tick (late data,
    /// emissions missed while the fleet was down).
    public let lookBackWeeks: Int
    /// Waited after `intakeAt` / `dueBy` so that reports and resolutions recorded just before
    /// the instant have been routed and are part of the first emission.
    public let settleMilliseconds: Int64

    /// A schedule checking `lookBackWeeks` past weeks with a settle delay of `settleMilliseconds` (both ≥ 0).
    public init(calendar: WorkCalendar, lookBackWeeks: Int = 8, settleMilliseconds: Int64 = 60_000) {
        precondition(lookBackWeeks >= 0 && settleMilliseconds >= 0, "look-back and settle delay must not be negative")
        self.calendar = calendar
        self.lookBackWeeks = lookBackWeeks
        self.settleMilliseconds = settleMilliseconds
    }

    /// A cycle of the look-back window with what is due of it at some instant.
    public struct DueCycle: Sendable, Equatable {
        /// The cycle.
        public var cycle: WeeklyCycle
        /// Whether its intake batches are due: `intakeAt` plus the settle delay has passed.
        public var intakeDue: Bool
        /// Whether its return batches are due: `dueBy` plus the settle delay has passed.
        public var returnDue: Bool
    }

    /// The cycles of the current week and the `lookBackWeeks` before it whose intake is due at
    /// `now`, oldest first.
    public func dueCycles(at now: Timestamp) -> [DueCycle] {
        let current = IsoWeek(containing: now.civilDate(utcOffsetSeconds: calendar.schedule.utcOffsetSeconds))
        var first = current
        for _ in 0..<lookBackWeeks { first = first.previous }
        return calendar.cycles(from: first, through: current).compactMap { cycle in
            guard isDue(cycle.intakeAt, at: now) else { return nil }
            return DueCycle(cycle: cycle, intakeDue: true, returnDue: isDue(cycle.dueBy, at: now))
        }
    }

    /// The first instant after `now` at which something more falls due.
    public func nextDue(after now: Timestamp) -> Timestamp {
        var week = IsoWeek(containing: now.civilDate(utcOffsetSeconds: calendar.schedule.utcOffsetSeconds))
        while true {
            if let cycle = calendar.cycle(for: week) {
                for instant in [cycle.intakeAt, cycle.dueBy] where !isDue(instant, at: now) {
                    return Timestamp(millisecondsSinceEpoch: instant.millisecondsSinceEpoch + settleMilliseconds)
                }
            }
            week = week.next
        }
    }

    private func isDue(_ instant: Timestamp, at now: Timestamp) -> Bool {
        instant.millisecondsSinceEpoch + settleMilliseconds <= now.millisecondsSinceEpoch
    }
}
