import BaocuoDomain
import BaocuoKafka
import BaocuoObservability
import BaocuoPipeline
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A Prometheus registry of one test's own, handed to the worker under test: the tests of other
/// suites run workers in the same process, which must not count into this test's figures.
enum TestMetrics {
    /// A private registry with the factory `baocuo run` bootstraps (help text on every metric).
    static func makeRegistry() -> (PrometheusCollectorRegistry, HelpfulMetricsFactory) {
        let registry = PrometheusCollectorRegistry()
        return (
            registry,
            HelpfulMetricsFactory(
                registry: registry, help: PipelineMetricNames.help,
                durationBuckets: PipelineMetricNames.durationHistogramBuckets)
        )
    }

    /// The metric families of Prometheus text without a `# HELP` line.
    static func familiesWithoutHelp(in text: String) -> [String] {
        let lines = text.split(separator: "\n")
        let typed = lines.filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
        let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { String($0.split(separator: " ")[2]) })
        return typed.filter { !helped.contains($0) }
    }

    /// The value of the sample line `name` (with its labels, if any) in Prometheus text; nil when absent.
    static func value(of name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }
}

/// `/metrics` and `/health/*` of a worker as records flow, librdkafka statistics, and SIGHUP reloads of
/// a `baocuo run` process.
@Suite(.serialized)
struct ObservabilityTests {
    @Test func statisticsJSONBecomesLagRTTAndBrokerStates() throws {
        let json = """
            {"name":"c#consumer-1","type":"consumer","brokers":{
              "127.0.0.1:9092/bootstrap":{"nodeid":-1,"state":"UP","rtt":{"avg":0,"cnt":0}},
              "127.0.0.1:9092/1":{"nodeid":1,"state":"UP","rtt":{"avg":1500,"cnt":4}},
              "127.0.0.1:9093/2":{"nodeid":2,"state":"DOWN","rtt":{"avg":0,"cnt":0}}},
             "topics":{"yb.settlement.failures":{"topic":"yb.settlement.failures","partitions":{
              "0":{"partition":0,"consumer_lag":42},"1":{"partition":1,"consumer_lag":-1},"-1":{"partition":-1,"consumer_lag":-1}}}},
             "cgrp":{"state":"up","rebalance_cnt":3}}
            """
        let statistics = try #require(KafkaStatistics(json: json))
        #expect(
            statistics.brokers == [
                KafkaStatistics.Broker(nodeID: 1, state: "UP", rttAverageMicroseconds: 1500),
                KafkaStatistics.Broker(nodeID: 2, state: "DOWN", rttAverageMicroseconds: nil),
            ])
        #expect(
            statistics.partitions == [
                KafkaStatistics.Partition(topicPartition: TopicPartition(topic: "yb.settlement.failures", partition: 0), consumerLag: 42),
                KafkaStatistics.Partition(topicPartition: TopicPartition(topic: "yb.settlement.failures", partition: 1), consumerLag: nil),
            ])
        #expect(statistics.rebalanceCount == 3)
        #expect(KafkaStatistics(json: "not json") == nil)
    }

    @Test func readinessFollowsTheBrokerStateOfTheStatistics() {
        let health = HealthState()
        health.recordAssignment(partitions: 2)
        health.recordPoll(brokerReachable: false)
        #expect(health.readiness().0 == false, "an empty poll proves no broker contact")
        health.recordBrokerState(anyUp: true)
        #expect(health.readiness().0 == true)
        health.recordBrokerState(anyUp: false)
        #expect(health.readiness() == (false, "broker not reachable"))
        health.recordPoll(brokerReachable: true)
        #expect(health.readiness().0 == true, "records received prove a broker answered")
    }

    @Test func metricsAndHealthEndpointsAnswerAndChangeAsRecordsFlow() async throws {
        let (registry, metricsFactory) = TestMetrics.makeRegistry()
        let cluster = try MockCluster(brokers: 1, logger: TestLogging.logger)
        defer { cluster.close() }
        let folder = try TestConfigFolder(prefix: "obs.", regions: SampleRegions.pooling)
        defer { folder.remove() }
        try folder.createTopics(on: cluster, inputPartitions: 2)
        let configuration = try folder.load()
        let names = TopicNames(prefix: folder.prefix)

        let health = HealthState()
        let boundPort = Mutex<Int?>(nil)
        let server = ObservabilityServer(
            host: "127.0.0.1", port: 0, registry: registry, health: health, logger: TestLogging.logger,
            onBound: { port in boundPort.withLock { $0 = port } })
        let serverGroup = ServiceGroup(services: [server], logger: TestLogging.logger)
        let serverTask = Task { try await serverGroup.run() }
        defer { serverTask.cancel() }
        let port = try await eventually("the endpoint binds") { boundPort.withLock { $0 } }

        #expect(try await HTTPGet.fetch(port: port, path: "/health/live").status == 200)
        #expect(try await HTTPGet.fetch(port: port, path: "/health/ready").status == 503, "not ready before any assignment")
        #expect(try await HTTPGet.fetch(port: port, path: "/nothing").status == 404)

        let lines = SampleReports.generate(count: 30, tag: "-obs")
        try await SampleReports.load(lines, topic: names.failures, brokers: cluster.bootstrapServers)
        let group = "obs-fleet"
        let worker = RouterWorker(
            options: RouterOptions(
                brokers: cluster.bootstrapServers, group: group, pollBatchSize: 10, commitInterval: .milliseconds(100),
                kafkaProperties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "statistics.interval.ms": "200"]),
            rules: RouterRules(RecordRouter(configuration: configuration, group: group)),
            logger: TestLogging.logger,
            events: RouterEvents(
                onPoll: { health.recordPoll(brokerReachable: $0) }, onAssignment: { health.recordAssignment(partitions: $0) },
                onBrokerState: { health.recordBrokerState(anyUp: $0) }, onStopping: { health.recordStopping() }),
            metricsFactory: metricsFactory
        )
        let workerTask = Task { try await worker.run() }
        try await eventually("ready once assigned and a broker is up") {
            try await HTTPGet.fetch(port: port, path: "/health/ready").status == 200 ? true : nil
        }
        try await GroupProgress.waitUntilCaughtUp(
            group: group, topic: names.failures, partitions: 2, brokers: cluster.bootstrapServers,
            logger: TestLogging.logger, timeout: .seconds(60))
        let lagLine = "\(PipelineMetricNames.consumerLag){group=\"\(group)\",topic=\"\(names.failures)\",partition=\"0\"}"
        let metrics = try await eventually("statistics reach /metrics") {
            let body = try await HTTPGet.fetch(port: port, path: "/metrics").body
            return body.contains(lagLine) && body.contains(PipelineMetricNames.brokerRTT) ? body : nil
        }
        // Every metric family has its # HELP line (issue 27).
        #expect(TestMetrics.familiesWithoutHelp(in: metrics).isEmpty, "\(TestMetrics.familiesWithoutHelp(in: metrics))")
        let consumed = try #require(TestMetrics.value(of: PipelineMetricNames.recordsConsumed, in: metrics))
        #expect(consumed >= 30)
        #expect(metrics.contains(PipelineMetricNames.recordsRouted + "{category=\""))
        #expect(metrics.contains(PipelineMetricNames.recordsRoutedByAgency + "{agency=\""))
        #expect(metrics.contains(PipelineMetricNames.recordsDeadLettered + "{code=\"INVALID_JSON\"}"))
        #expect((TestMetrics.value(of: PipelineMetricNames.produceLatency + "_count", in: metrics) ?? 0) > 0)
        // Caught up, every consumed record's first output is acknowledged and timed from ingest; 50 ms is a bucket bound.
        #expect(TestMetrics.value(of: PipelineMetricNames.ingestToAcknowledged + "_count", in: metrics) == consumed)
        #expect(metrics.contains(PipelineMetricNames.ingestToAcknowledged + "_bucket{le=\"0.05\"}"))
        #expect(TestMetrics.value(of: PipelineMetricNames.brokersUp, in: metrics) == 1)

        worker.requestStop()
        try await workerTask.value
        let stopped = try await HTTPGet.fetch(port: port, path: "/health/ready")
        #expect(stopped.status == 503 && stopped.body.contains("stopping"))
        await serverGroup.triggerGracefulShutdown()
        try await serverTask.value
    }

    @Test func runLogsARefusedKafkaPropertyBeforeExit2() async throws {
        // At debug, ServiceLifecycle itself logs the error; the line under test is the info-level one.
        let worker = try ChildProcess(
            ["run", "--brokers", "127.0.0.1:1", "--no-scheduler", "--http-port", "0"],
            environment: ["BAOCUO_KAFKA_PROPERTY_NO_SUCH_SETTING": "1", "BAOCUO_LOGGING_LEVEL": "info"],
            name: "run-bad-property")
        defer { worker.signal(SIGKILL) }
        #expect(await worker.waitForExit(timeout: .seconds(30)) == 2)
        #expect(worker.log.contains("no.such.setting"), "\(worker.log.suffix(1500))")
    }

    @Test func sighupReloadChangesRoutingWithoutLosingRecords() async throws {
        let cluster = try MockCluster(brokers: 1, logger: TestLogging.logger)
        defer { cluster.close() }
        let folder = try TestConfigFolder(prefix: "reload.", regions: SampleRegions.pooling)
        defer { folder.remove() }
        try folder.createTopics(on: cluster, inputPartitions: 1)
        let names = TopicNames(prefix: folder.prefix)
        let before = try folder.load()
        let group = "reload-fleet"
        let worker = try ChildProcess(
            ["run", "--brokers", cluster.bootstrapServers, "--group", group, "--http-port", "0"],
            environment: FleetProcessTests.workerEnvironment.merging(["BAOCUO_CONFIG_DIR": folder.path]) { _, new in new },
            name: "run-sighup")
        defer { worker.signal(SIGKILL) }
        let first = SampleReports.generate(count: SampleReports.lines.count, tag: "-b1")
        try await SampleReports.load(first, topic: names.failures, brokers: cluster.bootstrapServers)
        try await waitUntilCaughtUp(group: group, names: names, cluster: cluster)

        // New rules: another rules text (a new rulesVersion) and a region table without one region.
        let dropped = try #require(
            first.first { SampleRegions.routes($0, before) }.flatMap(SampleRegions.insuredRegion)
                .flatMap { before.regions.resolve($0)?.code })
        try folder.append("\n# edited by the SIGHUP test\n", to: DomainConfiguration.rulesFile)
        try folder.writeRegions(SampleRegions.pooling.subtracting([dropped]))
        let after = try folder.load()
        #expect(after.classifier.rulesVersion != before.classifier.rulesVersion)
        // The calendar's horizon at start: the gauge, and from 1 November 2026 the warning and the readiness detail.
        let port = try await eventually("the endpoint binds") { () -> Int? in
            guard let line = worker.log.split(separator: "\n").first(where: { $0.contains("observability endpoint listening") }),
                let address = line.split(separator: " ").last(where: { $0.hasPrefix("address=") })
            else { return nil }
            return Int(address.split(separator: ":").last!.filter(\.isNumber))
        }
        let horizon = CalendarHorizon(calendar: before.calendar)
        let warned = horizon.warning(at: Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))) != nil
        let metrics = try await HTTPGet.fetch(port: port, path: "/metrics").body
        #expect(metrics.contains("# HELP baocuo_calendar_covered_until_seconds "))
        #expect(metrics.contains("baocuo_calendar_covered_until_seconds \(horizon.coveredUntil.millisecondsSinceEpoch / 1000)"))
        let ready = try await HTTPGet.fetch(port: port, path: "/health/ready")
        #expect(ready.body.contains("calendar: 2027 provisional") == warned, "\(ready.body)")
        #expect(worker.log.contains("calendar.csv ends with 2026: 2027's cycles are provisional") == warned)

        // Next year's schedule: the 2027 statutory days off, as the operator would add them.
        let rows2027 = StatutoryHolidays(year: 2027).daysOff.sorted().map { "\($0),holiday,2027 schedule\n" }.joined()
        try folder.append(rows2027, to: DomainConfiguration.calendarFile)
        worker.signal(SIGHUP)
        try await eventually("the worker reloads") { worker.log.contains("rules, regions and calendar reloaded") ? true : nil }
        #expect(worker.log.contains("2021-2027"), "the reload names the new coverage")
        let reloadedMetrics = try await HTTPGet.fetch(port: port, path: "/metrics").body
        let until2027 = Timestamp.parseRFC3339("2028-01-01T00:00:00+08:00")!.millisecondsSinceEpoch / 1000
        #expect(reloadedMetrics.contains("baocuo_calendar_covered_until_seconds \(until2027)"), "\(reloadedMetrics.suffix(800))")
        #expect(!(try await HTTPGet.fetch(port: port, path: "/health/ready")).body.contains("provisional"))

        let second = SampleReports.generate(count: SampleReports.lines.count, tag: "-b2")
        try await SampleReports.load(second, topic: names.failures, brokers: cluster.bootstrapServers)
        try await waitUntilCaughtUp(group: group, names: names, cluster: cluster)
        worker.signal(SIGTERM)
        #expect(await worker.waitForExit(timeout: .seconds(10)) == 0, "\(worker.log.suffix(1500))")

        let reader = TopicReader(brokers: cluster.bootstrapServers, logger: TestLogging.logger)
        let inputs = try await reader.readAll(reader.topics { $0 == names.failures })
        let outputs = try await reader.readAll(reader.topics { $0.hasSuffix(".inbox") || $0 == names.ops || $0 == names.failuresDLQ })
        let firstCount = Int64(first.count)
        func isFirstBatch(_ output: StoredRecord) -> Bool {
            if output.topic == names.failuresDLQ {
                return (output.header(DeadLetterHeader.sourceOffset).flatMap { Int64($0) } ?? 0) < firstCount
            }
            return output.keyString?.contains("-b1-") == true
        }
        let versions = { (records: [StoredRecord]) in
            Set(
                records.filter { $0.topic != names.failuresDLQ }.compactMap { record -> String? in
                    let object = (try? JSONSerialization.jsonObject(with: Data(record.value))) as? [String: Any]
                    return (object?["classifier"] as? [String: Any])?["rulesVersion"] as? String
                })
        }
        let firstOutputs = outputs.filter(isFirstBatch)
        let secondOutputs = outputs.filter { !isFirstBatch($0) }
        #expect(versions(firstOutputs) == [before.classifier.rulesVersion])
        #expect(versions(secondOutputs) == [after.classifier.rulesVersion])
        let firstLedger = Ledger(router: RecordRouter(configuration: before, group: group))
            .check(inputs: inputs.filter { $0.offset < firstCount }, outputs: firstOutputs)
        let secondLedger = Ledger(router: RecordRouter(configuration: after, group: group))
            .check(inputs: inputs.filter { $0.offset >= firstCount }, outputs: secondOutputs)
        #expect(firstLedger.isExact, "\(firstLedger)")
        #expect(secondLedger.isExact, "\(secondLedger)")
        let newlyUnknown = second.filter { SampleRegions.routes($0, before) && !SampleRegions.routes($0, after) }.count
        #expect(newlyUnknown > 0)
        #expect(
            secondOutputs.filter { $0.header(DeadLetterHeader.errorCode) == "UNKNOWN_REGION" }.count
                == second.filter { SampleRegions.rejectCode($0, after) == "UNKNOWN_REGION" }.count,
            "the reloaded region table routes the dropped region's reports to the DLQ")
        #expect(PersonIDScan.unmaskedCount(in: worker.log) == 0, "the worker's log holds an unmasked person ID")
    }

    func waitUntilCaughtUp(group: String, names: TopicNames, cluster: MockCluster) async throws {
        let progress = try await GroupProgress.waitUntilCaughtUp(
            group: group, topic: names.failures, partitions: 1,
            brokers: cluster.bootstrapServers, logger: TestLogging.logger, timeout: .seconds(60))
        #expect(progress.lag == 0, "\(progress)")
    }
}

@discardableResult
/// Polls `probe` until it yields a value (every 100 ms, up to `timeout`).
func eventually<T>(_ what: String, timeout: Duration = .seconds(30), _ probe: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() { return value }
        guard ContinuousClock.now < deadline else { throw EventuallyTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(100))
    }
}

struct EventuallyTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting until \(what)" }
}
