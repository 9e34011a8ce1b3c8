import BaocuoDomain

/// The scheduler's notion of now. Only decides *when* batches are emitted — never what they
/// contain — so tests can drive Mondays and Fridays (holiday weeks included) in seconds.
public protocol SchedulerClock: Sendable {
    func now() -> Timestamp
    /// Returns once `now()` has reached `deadline`; throws `CancellationError` when cancelled.
    func sleep(until deadline: Timestamp) async throws
}

/// The machine's real-time clock.
public struct SystemClock: SchedulerClock {
    public init() {}

    public func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: WallClock.nowMilliseconds())
    }

    public func sleep(until deadline: Timestamp) async throws {
        let remaining = deadline.millisecondsSinceEpoch - WallClock.nowMilliseconds()
        if remaining > 0 { try await Task.sleep(for: .milliseconds(remaining)) }
    }
}
