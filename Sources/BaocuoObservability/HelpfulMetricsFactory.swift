import CoreMetrics
import Prometheus

/// A swift-metrics backend on a `PrometheusCollectorRegistry` that writes a `# HELP` line for every
/// metric. swift-prometheus's own `PrometheusMetricsFactory` registers every metric with empty help
/// text, and a registry refuses (traps on) one name registered with two help texts, so help cannot
/// be added beside it: this factory registers each metric directly with its text.
///
/// `help`: text per metric name; a name missing from it gets "Baocuo metric NAME." rather than no
/// HELP line. Gauges made directly on the registry (the calendar gauge, the info gauges) pass their
/// own text and must not also be made through this factory.
public struct HelpfulMetricsFactory: MetricsFactory {
    /// The registry every metric is registered in (and `/metrics` is rendered from).
    public let registry: PrometheusCollectorRegistry
    private let help: [String: String]
    private let durationBuckets: [String: [Duration]]
    private let defaultDurationBuckets: [Duration]
    private let defaultValueBuckets: [Double] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

    /// A factory on `registry`; `durationBuckets` overrides the timer buckets per metric name.
    public init(registry: PrometheusCollectorRegistry, help: [String: String], durationBuckets: [String: [Duration]] = [:]) {
        self.registry = registry
        self.help = help
        self.durationBuckets = durationBuckets
        defaultDurationBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
    }

    private func text(_ label: String) -> String { help[label] ?? "Baocuo metric \(label)." }

    /// The metric's name with its help text (an empty unit: the name is used as given).
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: text(label))
    }

    /// A Prometheus counter `label` with its help text.
    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    /// A Prometheus counter `label` with its help text.
    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    /// A value histogram when `aggregate`, else a gauge.
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: defaultValueBuckets)
    }

    /// A Prometheus gauge `label` with its help text.
    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    /// A duration histogram with the buckets configured for `label`, or the default ones.
    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: descriptor(label), labels: dimensions,
            buckets: durationBuckets[label] ?? defaultDurationBuckets)
    }

    /// Unregisters the counter.
    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    /// Unregisters the counter.
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    /// Unregisters the gauge or histogram.
    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    /// Unregisters the gauge.
    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    /// Unregisters the histogram.
    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
