import ArgumentParser
import BaocuoDomain
import BaocuoKafka
import BaocuoObservability
import BaocuoPipeline
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `baocuo run` (CONTRACT §8): one router worker of the fleet.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a router worker: consume the ingest topic in the consumer group and route every report.",
        discussion: """
            SIGTERM or SIGINT: stop fetching, finish and commit what is in flight, exit 0 within 10 seconds. \
            SIGHUP: reload classification.yaml, regions.csv and calendar.csv without a restart.
            """
    )

    @OptionGroup var brokerOptions: BrokerOptions

    @Option(name: .long, help: "Consumer group (default: kafka.group of baocuo.yaml, baocuo-router).")
    var group: String?

    @Option(name: .long, help: "Port of the /metrics and /health endpoint (default: http.port of baocuo.yaml; 0 picks a free port).")
    var httpPort: Int?

    @Flag(name: .long, help: "Do not run the weekly batch scheduler in this worker (it runs in every worker by default).")
    var noScheduler = false

    @Option(
        name: .long,
        help: """
            Weeks before the current one the scheduler re-checks at every tick for missed emissions and late data \
            (default: scheduler.lookBackWeeks, 8).
            """)
    var lookBackWeeks: Int?

    @Option(
        name: .long,
        help: """
            Seconds between scheduler ticks; a tick also happens as soon as a batch falls due \
            (default: scheduler.tickSeconds, 60).
            """)
    var schedulerTickSeconds: Int?

    @Option(
        name: .long,
        help: "Seconds waited after an intake or due instant before the first emission (default: scheduler.settleDelaySeconds, 60).")
    var settleDelaySeconds: Int?

    @Option(
        name: .long,
        help: "Seconds after a due time before a batch not emitted counts as missed (default: scheduler.deadlineGraceSeconds, 600).")
    var deadlineGraceSeconds: Int?

    @Option(
        name: .long,
        help: """
            First week (YYYY-Www) whose batches the scheduler emits (default: scheduler.startWeek; unset: the oldest \
            emitted week, or the current week on a cluster without any).
            """,
        transform: { text in
            guard let week = IsoWeek(text) else { throw ValidationError("--start-week: expected YYYY-Www, e.g. 2026-W49") }
            return week
        })
    var startWeek: IsoWeek?

    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let configuration = try configOptions.load()
        let settings = configuration.settings
        let logger = LoggingSetup.bootstrap(settings: settings, label: "baocuo.router")
        let brokers = try brokerOptions.resolve(settings)
        let schedulerSettings = try effectiveSchedulerSettings(settings.scheduler)
        logger.info(
            "baocuo run starting",
            metadata: [
                "version": "\(BuildInfo.version)", "commit": "\(BuildInfo.commit)", "librdkafka": "\(librdkafkaVersion)",
                "rulesVersion": "\(configuration.classifier.rulesVersion)",
            ])
        KafkaVersionCheck.log(to: logger)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(
            HelpfulMetricsFactory(
                registry: registry, help: PipelineMetricNames.help,
                durationBuckets: PipelineMetricNames.durationHistogramBuckets))
        let identity = IdentityGauges(registry: registry, rulesVersion: configuration.classifier.rulesVersion)
        let health = HealthState()
        let horizon = CalendarHorizonWatch(registry: registry, health: health, logger: logger)
        horizon.report(configuration.calendar, event: "start")

        let group = group ?? settings.kafka.group
        let rules = RouterRules(RecordRouter(configuration: configuration, group: group))
        let options = RouterOptions(
            brokers: brokers,
            group: group,
            pollBatchSize: settings.router.pollBatchSize,
            maxInFlightRecords: settings.router.maxInFlightRecords,
            commitInterval: .milliseconds(settings.router.commitIntervalMs),
            kafkaProperties: settings.kafka.properties,
            drainTimeout: .milliseconds(settings.lifecycle.drainTimeoutMs),
            maxRecordBytes: settings.limits.maxRecordBytes,
            producers: settings.router.producers
        )
        // The watchdog first: from here on, a start-up that never completes or a stop that hangs
        // ends the process with a log line saying what it waited for (issue 32).
        let serviceGroupBox = Mutex<ServiceGroup?>(nil)
        let workerBox = Mutex<RouterWorker?>(nil)
        let watchdog = LifecycleWatchdog(
            startTimeout: .milliseconds(settings.lifecycle.startTimeoutMs),
            stopTimeout: .milliseconds(settings.lifecycle.drainTimeoutMs + BaocuoSettings.Lifecycle.stopMarginMs),
            logger: logger,
            onStopRequest: {
                // The router starts its drain at once: the group stops its services in reverse
                // order, one after the other, and reaches the router last.
                workerBox.withLock { $0 }?.requestStop()
                // The group's own signal handling does the same; this covers a signal that arrives
                // before it is installed. The request is remembered until the group runs.
                guard let group = serviceGroupBox.withLock({ $0 }) else { return }
                Task { await group.triggerGracefulShutdown() }
            }
        )
        watchdog.expect("router first poll")
        watchdog.arm()
        let worker = RouterWorker(
            options: options, rules: rules, logger: logger,
            events: RouterEvents(
                onPoll: { received in
                    health.recordPoll(brokerReachable: received)
                    watchdog.reached("router first poll")
                },
                onAssignment: { health.recordAssignment(partitions: $0) },
                onBrokerState: { health.recordBrokerState(anyUp: $0) },
                onStopping: {
                    health.recordStopping()
                    watchdog.stopRequested(reason: "router stopping")
                }
            ))
        workerBox.withLock { $0 = worker }
        // The endpoint binds before any service starts: /health answers from the first poll on, and
        // a port in use is a start-up error with its reason. (It used to bind as a service beside the
        // router; its failure cancelled the group, the router ignored cancellation, and the process
        // ran on deaf: no endpoint, SIGTERM ignored.)
        let endpoint: ObservabilityServer.Listening
        do {
            endpoint = try await ObservabilityServer(
                host: settings.http.host, port: httpPort ?? settings.http.port,
                registry: registry, health: health, logger: logger
            ).bind()
        } catch {
            logger.critical("baocuo run cannot start", metadata: ["error": "\(error)"])
            watchdog.exit(2)
        }
        var named: [(String, any Service)] = [("router", worker), ("observability endpoint", endpoint)]
        var scheduler: WeeklyScheduler?
        if !noScheduler {
            let weekly = WeeklyScheduler(
                configuration: configuration,
                options: WeeklySchedulerOptions(
                    brokers: brokers, lookBackWeeks: schedulerSettings.lookBackWeeks,
                    settleDelay: .seconds(schedulerSettings.settleDelaySeconds), tickInterval: .seconds(schedulerSettings.tickSeconds),
                    checkerGroup: group + ".resolution-check", kafkaProperties: settings.kafka.properties,
                    firstWeek: schedulerSettings.startWeek.map(WeeklySchedulerOptions.FirstWeek.week) ?? .sinceFirstEmission,
                    deadlineGrace: .seconds(schedulerSettings.deadlineGraceSeconds)
                ), logger: logger)
            named.append(("weekly scheduler", weekly))
            scheduler = weekly
        }
        named.append(
            (
                "rules reloader",
                RulesReloader(
                    configuration: configuration, group: group, rules: rules,
                    scheduler: scheduler, horizon: horizon, identity: identity, logger: logger)
            ))
        // Every service failing or ending stops the group gracefully: the router drains and commits
        // (a cancelled group used to leave it running).
        let services = named.map { name, service in
            watchdog.expect("service \(name) started")
            return ServiceGroupConfiguration.ServiceConfiguration(
                service: WatchedService(name: name, service: service, watchdog: watchdog, logger: logger),
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            )
        }
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
        serviceGroupBox.withLock { $0 = serviceGroup }
        do {
            try await serviceGroup.run()
        } catch {
            // ServiceGroup logs a service's error only at debug, and a failure while setting up (a refused
            // Kafka property) happens before the worker's own logging: this line is the operator's reason.
            logger.critical("baocuo run stopped", metadata: ["error": "\(error)"])
            watchdog.exit(2)
        }
        watchdog.exit(0)
    }
}

extension RunCommand {
    /// `scheduler` of baocuo.yaml and the environment, with this command's flags on top.
    func effectiveSchedulerSettings(_ configured: BaocuoSettings.Scheduler) throws -> BaocuoSettings.Scheduler {
        var scheduler = configured
        func check(_ value: Int?, _ flag: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value else { return nil }
            guard range.contains(value) else { throw ValidationError("--\(flag) must be in \(range.lowerBound)...\(range.upperBound)") }
            return value
        }
        scheduler.lookBackWeeks = try check(lookBackWeeks, "look-back-weeks", 0...52) ?? scheduler.lookBackWeeks
        scheduler.tickSeconds = try check(schedulerTickSeconds, "scheduler-tick-seconds", 1...3_600) ?? scheduler.tickSeconds
        scheduler.settleDelaySeconds = try check(settleDelaySeconds, "settle-delay-seconds", 0...3_600) ?? scheduler.settleDelaySeconds
        scheduler.deadlineGraceSeconds =
            try check(deadlineGraceSeconds, "deadline-grace-seconds", 0...86_400) ?? scheduler.deadlineGraceSeconds
        scheduler.startWeek = startWeek ?? scheduler.startWeek
        return scheduler
    }
}

/// Reloads the rules, the region table and the calendar on SIGHUP, for the router and the weekly
/// scheduler; a bad file is reported and the running configuration stays.
struct RulesReloader: Service, CustomStringConvertible {
    let configuration: DomainConfiguration
    let group: String
    let rules: RouterRules
    let scheduler: WeeklyScheduler?
    let horizon: CalendarHorizonWatch
    let identity: IdentityGauges
    let logger: Logger
    // ServiceLifecycle names each service by `"\(service)"`: without this, a reflection dump of
    // the whole configuration (0.5 s of CPU at start-up).
    var description: String { "RulesReloader" }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        var current = configuration
        let succeeded = Counter(label: PipelineMetricNames.reloads, dimensions: [("outcome", "success")])
        let failed = Counter(label: PipelineMetricNames.reloads, dimensions: [("outcome", "failure")])
        await withGracefulShutdownHandler {
            for await _ in signals.cancelOnGracefulShutdown() {
                do {
                    current = try current.reloadingRulesRegionsAndCalendar(warn: horizon.warnOnce)
                    rules.replace(with: RecordRouter(configuration: current, group: group))
                    scheduler?.reload(configuration: current)
                    let years = current.calendar.coveredYears
                    logger.notice(
                        "rules, regions and calendar reloaded",
                        metadata: [
                            "rulesVersion": "\(current.classifier.rulesVersion)",
                            "calendarCovers": "\(years.lowerBound)-\(years.upperBound)",
                        ])
                    horizon.report(current.calendar, event: "reload")
                    identity.rulesLoaded(current.classifier.rulesVersion)
                    succeeded.increment()
                } catch {
                    failed.increment()
                    logger.error(
                        "reload refused; the running rules stay",
                        metadata: [
                            "error": "\(error)", "rulesVersion": "\(current.classifier.rulesVersion)",
                        ])
                }
            }
        } onGracefulShutdown: {
        }
    }
}

/// `baocuo_build_info` and `baocuo_rules_info`: constant-1 gauges whose labels say which build and
/// which rules version a worker runs (`max by (rulesVersion) (baocuo_rules_info)` shows a fleet
/// half-way through a reload or a rollout).
final class IdentityGauges: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let rules: Mutex<(version: String, gauge: Prometheus.Gauge)>

    init(registry: PrometheusCollectorRegistry, rulesVersion: String) {
        self.registry = registry
        registry.makeGauge(
            descriptor: Self.descriptor(PipelineMetricNames.buildInfo),
            labels: [
                ("version", BuildInfo.version), ("commit", BuildInfo.commit), ("librdkafka", librdkafkaVersion),
            ]
        ).set(1.0)
        let gauge = registry.makeGauge(descriptor: Self.descriptor(PipelineMetricNames.rulesInfo), labels: [("rulesVersion", rulesVersion)])
        gauge.set(1.0)
        rules = Mutex((rulesVersion, gauge))
    }

    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: PipelineMetricNames.help[name] ?? name)
    }

    /// After a reload: the series of the previous version goes, the new one is 1.
    func rulesLoaded(_ version: String) {
        rules.withLock { rules in
            guard rules.version != version else { return }
            registry.unregisterGauge(rules.gauge)
            let gauge = registry.makeGauge(descriptor: Self.descriptor(PipelineMetricNames.rulesInfo), labels: [("rulesVersion", version)])
            gauge.set(1.0)
            rules = (version, gauge)
        }
    }
}

/// The calendar's horizon for operators (CONTRACT §6 amended): from 1 November of the last year
/// `calendar.csv` covers, a warning at start and on each reload, in the worker's log format (text
/// or JSON lines); always the gauge `baocuo_calendar_covered_until_seconds`; and a readiness detail
/// (never a failure).
final class CalendarHorizonWatch: Sendable {
    static let gaugeName = PipelineMetricNames.calendarCoveredUntil
    private let gauge: Prometheus.Gauge
    private let current: Mutex<CalendarHorizon?>
    private let logger: Logger
    private let now: @Sendable () -> Timestamp

    init(
        registry: PrometheusCollectorRegistry, health: HealthState, logger: Logger,
        now: @escaping @Sendable () -> Timestamp = { SystemClock().now() }
    ) {
        gauge = registry.makeGauge(descriptor: IdentityGauges.descriptor(Self.gaugeName))
        current = Mutex(nil)
        self.logger = logger
        self.now = now
        health.setReadinessDetail { [self] in current.withLock { $0 }?.readinessDetail(at: self.now()) }
    }

    /// Publishes `calendar`'s horizon, and warns when it is near or past.
    func report(_ calendar: WorkCalendar, event: String) {
        let horizon = CalendarHorizon(calendar: calendar)
        current.withLock { $0 = horizon }
        gauge.set(Double(horizon.coveredUntil.millisecondsSinceEpoch / 1000))
        if let warning = horizon.warning(at: now()) {
            var metadata: Logger.Metadata = ["event": "\(event)"]
            for (key, value) in horizon.logFields { metadata[key] = "\(value)" }
            logger.warning("\(warning)", metadata: metadata)
        }
    }

    /// The calendar's once-per-year warnings (a query reaching a year beyond the precomputed ones).
    var warnOnce: @Sendable (String) -> Void {
        { [logger] message in logger.warning("\(message)") }
    }
}
