import BaocuoDomain
import Metrics
import Synchronization

/// Whether the batches of one week and kind went out by their due time: the intake batches (one
/// per pooling region) are due at the cycle's intake instant, the return batches (one per
/// province) at its deadline. A batch counts as emitted once its marker exists (an outdated
/// marker still means the batch went out; the new revision follows within the look-back window).
public struct BatchDeadlineStatus: Sendable, Equatable {
    /// The ISO week of the cycle.
    public var week: IsoWeek
    /// Intake or return batches.
    public var kind: BatchKind
    /// When the batches fall due: `intakeAt` for intake, `dueBy` for return.
    public var dueAt: Timestamp
    /// Batches due: one per pooling region (intake) or per province (return).
    public var expected: Int
    /// Of those, the batches with a marker.
    public var emitted: Int
    /// Past `dueAt` + the grace period with fewer batches emitted than expected.
    public var missed: Bool

    /// Batches due but not emitted yet.
    public var missing: Int { expected - emitted }
}

/// The deadline check shared by the scheduler's gauges and `baocuo batch status`.
public enum BatchDeadlines {
    /// The default grace after a due instant before a batch not emitted counts as missed: the
    /// scheduler emits at the due instant + its settle delay (60 s) + up to its race jitter (5 s).
    public static let defaultGraceMilliseconds: Int64 = 600_000

    /// Every week and kind of `cycles` whose due instant `now` has reached, with the batches
    /// `markers` record as emitted.
    public static func evaluate(
        cycles: [WeeklyCycle], regions: RegionTable, markers: some Sequence<BatchMarker>,
        now: Timestamp, graceMilliseconds: Int64
    ) -> [BatchDeadlineStatus] {
        var emittedScopes: [IsoWeek: [BatchKind: Set<String>]] = [:]
        for marker in markers {
            emittedScopes[marker.week, default: [:]][marker.kind, default: []].insert(marker.scope)
        }
        let regionCodes = Set(regions.regions.map(\.code))
        let provinces = Set(regions.provinces)
        var statuses: [BatchDeadlineStatus] = []
        for cycle in cycles {
            for (kind, dueAt, scopes) in [(BatchKind.intake, cycle.intakeAt, regionCodes), (.return, cycle.dueBy, provinces)]
            where dueAt <= now {
                let emitted = emittedScopes[cycle.week]?[kind]?.intersection(scopes).count ?? 0
                let late = now.millisecondsSinceEpoch >= dueAt.millisecondsSinceEpoch + graceMilliseconds
                statuses.append(
                    BatchDeadlineStatus(
                        week: cycle.week, kind: kind, dueAt: dueAt, expected: scopes.count,
                        emitted: emitted, missed: late && emitted < scopes.count))
            }
        }
        return statuses
    }
}

extension WeekStatus {
    /// The kinds of this week whose batches are past their due time + `graceMilliseconds` at `now`
    /// and not all emitted (`baocuo batch status` exits 1 when there is one).
    public func missedDeadlines(now: Timestamp, graceMilliseconds: Int64) -> [BatchKind] {
        [(BatchKind.intake, cycle.intakeAt, intake), (.return, cycle.dueBy, returns)].compactMap { kind, dueAt, batches in
            now.millisecondsSinceEpoch >= dueAt.millisecondsSinceEpoch + graceMilliseconds && !batches.missing.isEmpty ? kind : nil
        }
    }
}

/// The scheduler's deadline gauges, per week of the look-back window and kind:
/// `baocuo_week_batches_expected`, `baocuo_week_batches_emitted` and `baocuo_batch_deadline_missed`
/// (1 when due batches are not all emitted by the due time + the grace). A week leaving the window
/// drops its series.
final class BatchDeadlineGauges: Sendable {
    private struct Key: Hashable {
        var week: IsoWeek
        var kind: BatchKind
    }
    private struct Series {
        var expected: Gauge
        var emitted: Gauge
        var missed: Gauge
    }
    private let factory: any MetricsFactory
    private let series = Mutex<[Key: Series]>([:])
    private let lastTick: Gauge

    init(factory: any MetricsFactory) {
        self.factory = factory
        lastTick = Gauge(label: PipelineMetricNames.schedulerLastTick, factory: factory)
    }

    func tickSucceeded(at now: Timestamp) {
        lastTick.record(Double(now.millisecondsSinceEpoch) / 1000)
    }

    func publish(_ statuses: [BatchDeadlineStatus]) {
        series.withLock { series in
            var seen = Set<Key>()
            for status in statuses {
                let key = Key(week: status.week, kind: status.kind)
                seen.insert(key)
                let gauges =
                    series[key]
                    ?? {
                        let dimensions = [("week", status.week.description), ("kind", status.kind.rawValue)]
                        return Series(
                            expected: Gauge(label: PipelineMetricNames.weekBatchesExpected, dimensions: dimensions, factory: factory),
                            emitted: Gauge(label: PipelineMetricNames.weekBatchesEmitted, dimensions: dimensions, factory: factory),
                            missed: Gauge(label: PipelineMetricNames.batchDeadlineMissed, dimensions: dimensions, factory: factory))
                    }()
                series[key] = gauges
                gauges.expected.record(status.expected)
                gauges.emitted.record(status.emitted)
                gauges.missed.record(status.missed ? 1 : 0)
            }
            for (key, gauges) in series where !seen.contains(key) {
                gauges.expected.destroy()
                gauges.emitted.destroy()
                gauges.missed.destroy()
                series[key] = nil
            }
        }
    }
}
