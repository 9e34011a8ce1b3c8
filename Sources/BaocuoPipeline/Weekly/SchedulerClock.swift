import BaocuoDomain
import Synchronization

/// The scheduler's notion of now. Only decides *when* batches are emitted — never what they
/// contain — so tests can drive Mondays and Fridays (holiday weeks included) in seconds.
public protocol SchedulerClock: Sendable {
    /// The current instant.
    func now() -> Timestamp
    /// Returns once `now()` has reached `deadline`; throws `CancellationError` when cancelled.
    func sleep(until deadline: Timestamp) async throws
}

/// The machine's real-time clock.
public struct SystemClock: SchedulerClock {
    /// The machine's clock.
    public init() {}

    /// The wall-clock time (`CLOCK_REALTIME`).
    public func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: WallClock.nowMilliseconds())
    }

    /// Sleeps for the time left until `deadline`, if any.
    public func sleep(until deadline: Timestamp) async throws {
        let remaining = deadline.millisecondsSinceEpoch - WallClock.nowMilliseconds()
        if remaining > 0 { try await Task.sleep(for: .milliseconds(remaining)) }
    }
}

/// A clock set by hand: tests and the demo jump to Mondays and Fridays (holiday weeks included)
/// without waiting for them.
public final class ManualClock: SchedulerClock {
    private let current: Mutex<Timestamp>

    /// Starts at `start`, an RFC 3339 instant.
    public init(_ start: String) {
        current = Mutex(Timestamp.parseRFC3339(start)!)
    }

    /// The instant last set.
    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock to `instant` (RFC 3339); sleepers whose deadline it reaches wake up.
    public func set(_ instant: String) {
        let instant = Timestamp.parseRFC3339(instant)!
        current.withLock { $0 = instant }
    }

    /// Polls every 5 ms until the clock is set to `deadline` or later.
    public func sleep(until deadline: Timestamp) async throws {
        while now() < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }
}
