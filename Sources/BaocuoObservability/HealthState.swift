import Synchronization

/// What `/health/live` and `/health/ready` report, fed by the worker as it runs.
///
/// Live: the worker's loop has polled recently (a stuck loop is not alive, even if the process is).
/// Ready: the worker holds an assignment and a broker answered recently — a poll that returned
/// records, or a Kafka statistics report with a broker connection up. A report with every broker
/// connection down makes the worker not ready at once.
public final class HealthState: Sendable {
    private struct State {
        var lastPollAt: ContinuousClock.Instant?
        var lastBrokerContactAt: ContinuousClock.Instant?
        var assignedPartitions = 0
        var stopping = false
    }

    private let state = Mutex(State())
    /// Extra text for `/health/ready` (e.g. the calendar's horizon), evaluated at each request; never a failure.
    private let readinessDetail = Mutex<(@Sendable () -> String?)?>(nil)
    /// A loop that has not polled for this long is reported dead.
    public let pollStallLimit: Duration
    /// No broker answer for this long makes the worker not ready.
    public let brokerSilenceLimit: Duration

    /// A state that is live and not ready until the first poll and assignment.
    public init(pollStallLimit: Duration = .seconds(60), brokerSilenceLimit: Duration = .seconds(30)) {
        self.pollStallLimit = pollStallLimit
        self.brokerSilenceLimit = brokerSilenceLimit
    }

    /// A poll returned; `brokerReachable` when it returned records (a broker answered).
    public func recordPoll(brokerReachable: Bool) {
        let now = ContinuousClock.now
        state.withLock {
            $0.lastPollAt = now
            if brokerReachable { $0.lastBrokerContactAt = now }
        }
    }

    /// From the Kafka client's statistics (every `statistics.interval.ms`): whether any broker
    /// connection is up.
    public func recordBrokerState(anyUp: Bool) {
        let now = ContinuousClock.now
        state.withLock { $0.lastBrokerContactAt = anyUp ? now : nil }
    }

    /// The worker now owns `partitions` partitions (0: not ready).
    public func recordAssignment(partitions: Int) {
        state.withLock { $0.assignedPartitions = partitions }
    }

    /// The worker is shutting down: not ready from now on.
    public func recordStopping() {
        state.withLock { $0.stopping = true }
    }

    /// (healthy, reason)
    public func liveness() -> (Bool, String) {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let lastPoll = state.lastPollAt else { return (true, "starting") }
            let age = now - lastPoll
            return age < pollStallLimit ? (true, "polling") : (false, "no poll for \(age)")
        }
    }

    /// Adds `detail()`, when it is not nil, to the reason `/health/ready` gives; it never makes
    /// the worker unready.
    public func setReadinessDetail(_ detail: @escaping @Sendable () -> String?) {
        readinessDetail.withLock { $0 = detail }
    }

    /// (ready, reason) for `/health/ready`, with the readiness detail appended when set.
    public func readiness() -> (Bool, String) {
        let (ready, reason) = baseReadiness()
        guard let detail = readinessDetail.withLock({ $0 })?() else { return (ready, reason) }
        return (ready, reason + "; " + detail)
    }

    private func baseReadiness() -> (Bool, String) {
        let now = ContinuousClock.now
        return state.withLock { state in
            if state.stopping { return (false, "stopping") }
            guard let contact = state.lastBrokerContactAt, now - contact < brokerSilenceLimit else {
                return (false, "broker not reachable")
            }
            guard state.assignedPartitions > 0 else { return (false, "no partitions assigned") }
            return (true, "assigned \(state.assignedPartitions) partitions")
        }
    }
}
