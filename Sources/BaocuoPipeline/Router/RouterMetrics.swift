import BaocuoDomain
import Metrics
import Synchronization

/// The router's swift-metrics instruments. Names follow Prometheus conventions; the CLI bootstraps
/// the Prometheus backend. Dimensioned counters are created once per label set and cached, because
/// creating one goes through the factory's registry lock.
final class RouterMetrics: Sendable {
    let consumed = Counter(label: "baocuo_records_consumed_total")
    let copies = Counter(label: "baocuo_routed_copies_total")
    let deliveryFailures = Counter(label: "baocuo_delivery_failures_total")
    let commits = Counter(label: "baocuo_offset_commits_total")
    let commitFailures = Counter(label: "baocuo_offset_commit_failures_total")
    private let routedCounters = Mutex<[RouteTally.RouteKey: Counter]>([:])
    private let rejectedCounters = Mutex<[RejectCode: Counter]>([:])

    func record(_ tally: RouteTally, consumed count: Int) {
        consumed.increment(by: count)
        if tally.copies > 0 { copies.increment(by: tally.copies) }
        for (key, count) in tally.routed {
            let counter = routedCounters.withLock { counters in
                if let existing = counters[key] { return existing }
                let made = Counter(label: "baocuo_records_routed_total",
                                   dimensions: [("category", key.category.rawValue), ("agency", key.owner)])
                counters[key] = made
                return made
            }
            counter.increment(by: count)
        }
        for (code, count) in tally.rejected {
            let counter = rejectedCounters.withLock { counters in
                if let existing = counters[code] { return existing }
                let made = Counter(label: "baocuo_records_dead_lettered_total", dimensions: [("code", code.rawValue)])
                counters[code] = made
                return made
            }
            counter.increment(by: count)
        }
    }
}
