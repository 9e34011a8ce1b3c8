import ArgumentParser
import BaocuoDomain
import BaocuoKafka
import BaocuoObservability
import BaocuoPipeline
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// `baocuo run` (CONTRACT §8): one router worker of the fleet.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a router worker: consume the ingest topic in the consumer group and route every report.",
        discussion: """
        SIGTERM or SIGINT: stop fetching, finish and commit what is in flight, exit 0 within 10 seconds. \
        SIGHUP: reload classification.yaml and regions.csv without a restart.
        """
    )

    @OptionGroup var brokerOptions: BrokerOptions

    @Option(name: .long, help: "Consumer group (default: kafka.group of baocuo.yaml, baocuo-router).")
    var group: String?

    @Option(name: .long, help: "Port of the /metrics and /health endpoint (default: http.port of baocuo.yaml; 0 picks a free port).")
    var httpPort: Int?

    @Flag(name: .long, help: "Do not run the weekly batch scheduler in this worker (it runs in every worker by default).")
    var noScheduler = false

    @Option(name: .long, help: "Weeks before the current one the scheduler re-checks at every tick for missed emissions and late data.")
    var lookBackWeeks: Int = 8

    @Option(name: .long, help: "Seconds between scheduler ticks (a tick also happens as soon as a batch falls due).")
    var schedulerTickSeconds: Int = 60

    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let configuration = try configOptions.load()
        let settings = configuration.settings
        let logger = LoggingSetup.bootstrap(settings: settings, label: "baocuo.router")
        let brokers = try brokerOptions.resolve(settings)
        guard lookBackWeeks >= 0 else { throw ValidationError("--look-back-weeks must not be negative") }
        KafkaVersionCheck.log(to: logger)
        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        metricsFactory.durationHistogramBuckets = PipelineMetricNames.durationHistogramBuckets
        MetricsSystem.bootstrap(metricsFactory)
        let health = HealthState()

        let group = group ?? settings.kafka.group
        let rules = RouterRules(RecordRouter(configuration: configuration, group: group))
        let options = RouterOptions(
            brokers: brokers,
            group: group,
            pollBatchSize: settings.router.pollBatchSize,
            maxInFlightRecords: settings.router.maxInFlightRecords,
            commitInterval: .milliseconds(settings.router.commitIntervalMs),
            kafkaProperties: settings.kafka.properties,
            maxRecordBytes: settings.limits.maxRecordBytes,
            producers: settings.router.producers
        )
        let worker = RouterWorker(options: options, rules: rules, logger: logger, events: RouterEvents(
            onPoll: { health.recordPoll(brokerReachable: $0) },
            onAssignment: { health.recordAssignment(partitions: $0) },
            onBrokerState: { health.recordBrokerState(anyUp: $0) },
            onStopping: { health.recordStopping() }
        ))
        let reloader = RulesReloader(configuration: configuration, group: group, rules: rules, logger: logger)
        let server = ObservabilityServer(host: settings.http.host, port: httpPort ?? settings.http.port,
                                         registry: registry, health: health, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup,
                  failureTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: server),
            .init(service: reloader),
        ]
        if !noScheduler {
            let scheduler = WeeklyScheduler(configuration: configuration, options: WeeklySchedulerOptions(
                brokers: brokers, lookBackWeeks: lookBackWeeks, tickInterval: .seconds(max(1, schedulerTickSeconds)),
                checkerGroup: group + ".resolution-check", kafkaProperties: settings.kafka.properties
            ), logger: logger)
            services.append(.init(service: scheduler))
        }
        let serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        do {
            try await serviceGroup.run()
        } catch {
            // ServiceGroup logs a service's error only at debug, and a failure while setting up (a refused
            // Kafka property) happens before the worker's own logging: this line is the operator's reason.
            logger.critical("baocuo run stopped", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        }
    }
}

/// Reloads the rules and the region table on SIGHUP; a bad file is reported and the running rules stay.
struct RulesReloader: Service, CustomStringConvertible {
    let configuration: DomainConfiguration
    let group: String
    let rules: RouterRules
    let logger: Logger
    // ServiceLifecycle names each service by `"\(service)"`: without this, a reflection dump of
    // the whole configuration (0.5 s of CPU at start-up).
    var description: String { "RulesReloader" }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        var current = configuration
        await withGracefulShutdownHandler {
            for await _ in signals.cancelOnGracefulShutdown() {
                do {
                    current = try current.reloadingRulesAndRegions()
                    rules.replace(with: RecordRouter(configuration: current, group: group))
                    logger.notice("rules and regions reloaded", metadata: ["rulesVersion": "\(current.classifier.rulesVersion)"])
                } catch {
                    logger.error("reload refused; the running rules stay", metadata: ["error": "\(error)"])
                }
            }
        } onGracefulShutdown: {}
    }
}
