import Testing

@testable import BaocuoDomain

private func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> BaocuoSettings {
    try BaocuoSettings.load(yaml: yaml, source: "baocuo.yaml", environment: environment)
}

private func loadError(_ yaml: String, environment: [String: String] = [:]) -> ConfigError? {
    do {
        _ = try load(yaml, environment: environment)
        return nil
    } catch {
        return error
    }
}

@Suite struct SettingsDefaultsTests {
    @Test func emptyFileGivesTheDefaults() throws {
        let settings = try load("")
        #expect(settings == BaocuoSettings())
        #expect(settings.topicPrefix == "yb.")
        #expect(settings.timeZone == "Asia/Shanghai")
        #expect(settings.schedule == Schedule(intakeSecondsIntoDay: 32_400, returnSecondsIntoDay: 57_600, utcOffsetSeconds: 28_800))
        #expect(settings.limits.maxRecordBytes == 1_048_576)
        #expect(settings.limits.maxDepth == 32)
        #expect(settings.limits.maxMessageCharacters == 2_000)
        #expect(settings.kafka.group == "baocuo-router")
        #expect(settings.kafka.brokers.isEmpty)
        #expect(settings.kafka.properties.isEmpty)
        #expect(settings.router.maxInFlightRecords == 64_000)
        #expect(settings.router.pollBatchSize == 16_000)
        #expect(settings.router.commitIntervalMs == 200)
        #expect(settings.router.producers == 2)
        #expect(settings.http.port == 9464)
        #expect(settings.http.host == "0.0.0.0")
        #expect(settings.lifecycle.startTimeoutMs == 30_000)
        #expect(settings.lifecycle.drainTimeoutMs == 8_000)
        #expect(settings.scheduler.tickSeconds == 60)
        #expect(settings.scheduler.lookBackWeeks == 8)
        #expect(settings.scheduler.settleDelaySeconds == 60)
        #expect(settings.scheduler.deadlineGraceSeconds == 600)
        #expect(settings.scheduler.startWeek == nil)
        #expect(settings.logging.level == .info)
        #expect(settings.logging.format == .text)
        #expect(try load("# only a comment\n") == BaocuoSettings())
    }

    @Test func repositoryFileHoldsExactlyTheDefaults() throws {
        let yaml = try RegionCalendarFixtures.configFile("baocuo.yaml")
        #expect(try load(yaml) == BaocuoSettings())
        // Every setting is written out, with its environment variable named in a comment.
        for variable in BaocuoSettings.environmentVariables {
            #expect(yaml.contains("Env: \(variable)"), "\(variable)")
        }
    }

    @Test func environmentVariableNames() {
        #expect(
            BaocuoSettings.environmentVariables == [
                "BAOCUO_TOPIC_PREFIX", "BAOCUO_TIME_ZONE", "BAOCUO_SCHEDULE_INTAKE_TIME", "BAOCUO_SCHEDULE_RETURN_TIME",
                "BAOCUO_LIMITS_MAX_RECORD_BYTES", "BAOCUO_LIMITS_MAX_DEPTH", "BAOCUO_LIMITS_MAX_MESSAGE_CHARACTERS",
                "BAOCUO_KAFKA_GROUP", "BAOCUO_KAFKA_BROKERS", "BAOCUO_ROUTER_MAX_IN_FLIGHT_RECORDS",
                "BAOCUO_ROUTER_POLL_BATCH_SIZE", "BAOCUO_ROUTER_COMMIT_INTERVAL_MS", "BAOCUO_ROUTER_PRODUCERS",
                "BAOCUO_RESOLUTIONS_SHARED_TOPIC_UNTIL", "BAOCUO_HTTP_PORT", "BAOCUO_HTTP_HOST",
                "BAOCUO_LIFECYCLE_START_TIMEOUT_MS", "BAOCUO_LIFECYCLE_DRAIN_TIMEOUT_MS",
                "BAOCUO_SCHEDULER_TICK_SECONDS", "BAOCUO_SCHEDULER_LOOK_BACK_WEEKS", "BAOCUO_SCHEDULER_SETTLE_DELAY_SECONDS",
                "BAOCUO_SCHEDULER_DEADLINE_GRACE_SECONDS", "BAOCUO_SCHEDULER_START_WEEK", "BAOCUO_LOGGING_LEVEL", "BAOCUO_LOGGING_FORMAT",
            ])
    }
}

@Suite struct SettingsOverrideTests {
    @Test func everySettingFromTheFile() throws {
        let settings = try load(
            """
            topicPrefix: test-
            timeZone: Asia/Tokyo
            schedule:
              intakeTime: 08:30
              returnTime: "17:45"
            limits:
              maxRecordBytes: 2097152
              maxDepth: 16
              maxMessageCharacters: 500
            kafka:
              group: replay
              brokers: [kafka-1:9092, "[::1]:9093"]
              properties:
                security.protocol: SASL_SSL
                enable.idempotence: true
                message.timeout.ms: 30000
            router:
              maxInFlightRecords: 5000
              pollBatchSize: 100
              commitIntervalMs: 1000
              producers: 3
            resolutions:
              sharedTopicUntil: 2027-01-01T00:00:00Z
            http:
              port: 0
              host: 127.0.0.1
            logging:
              level: debug
              format: json
            """)
        var expected = BaocuoSettings()
        expected.topicPrefix = "test-"
        expected.timeZone = "Asia/Tokyo"
        // 08:30 unquoted is a YAML 1.1 sexagesimal integer (510); it must still mean half past eight.
        expected.schedule = Schedule(intakeSecondsIntoDay: 30_600, returnSecondsIntoDay: 63_900, utcOffsetSeconds: 32_400)
        expected.limits = .init(maxRecordBytes: 2_097_152, maxDepth: 16, maxMessageCharacters: 500)
        expected.kafka = .init(
            group: "replay", brokers: ["kafka-1:9092", "[::1]:9093"],
            properties: [
                "security.protocol": "SASL_SSL", "enable.idempotence": "true",
                "message.timeout.ms": "30000",
            ])
        expected.router = .init(maxInFlightRecords: 5_000, pollBatchSize: 100, commitIntervalMs: 1_000, producers: 3)
        expected.resolutions = .init(sharedTopicUntil: Timestamp.parseRFC3339("2027-01-01T00:00:00Z")!)
        expected.http = .init(port: 0, host: "127.0.0.1")
        expected.logging = .init(level: .debug, format: .json)
        #expect(settings == expected)
    }

    @Test func everySettingFromTheEnvironment() throws {
        let settings = try load(
            "kafka:\n  group: from-file\n  properties:\n    sasl.username: file-user\n",
            environment: [
                "BAOCUO_TOPIC_PREFIX": "stage.yb.",
                "BAOCUO_TIME_ZONE": "Etc/GMT-8",
                "BAOCUO_SCHEDULE_INTAKE_TIME": "10:00",
                "BAOCUO_SCHEDULE_RETURN_TIME": "15:30",
                "BAOCUO_LIMITS_MAX_RECORD_BYTES": "4096",
                "BAOCUO_LIMITS_MAX_DEPTH": "8",
                "BAOCUO_LIMITS_MAX_MESSAGE_CHARACTERS": "100",
                "BAOCUO_KAFKA_GROUP": "baocuo-canary",
                "BAOCUO_KAFKA_BROKERS": "b1:9092, b2:9092",
                "BAOCUO_KAFKA_PROPERTY_SASL_USERNAME": "env-user",
                "BAOCUO_KAFKA_PROPERTY_SECURITY_PROTOCOL": "SASL_SSL",
                "BAOCUO_ROUTER_MAX_IN_FLIGHT_RECORDS": "300",
                "BAOCUO_ROUTER_POLL_BATCH_SIZE": "300",
                "BAOCUO_ROUTER_COMMIT_INTERVAL_MS": "250",
                "BAOCUO_ROUTER_PRODUCERS": "1",
                "BAOCUO_RESOLUTIONS_SHARED_TOPIC_UNTIL": "2026-12-31T16:00:00+08:00",
                "BAOCUO_HTTP_PORT": "8080",
                "BAOCUO_HTTP_HOST": "::",
                "BAOCUO_LOGGING_LEVEL": "warning",
                "BAOCUO_LOGGING_FORMAT": "json",
                // Not ours: Kubernetes service links and unrelated variables are ignored.
                "BAOCUO_SERVICE_HOST": "10.0.0.1", "BAOCUO_PORT_9464_TCP": "tcp://10.0.0.1:9464", "PATH": "/usr/bin",
            ])
        var expected = BaocuoSettings()
        expected.topicPrefix = "stage.yb."
        expected.timeZone = "Etc/GMT-8"
        expected.schedule = Schedule(intakeSecondsIntoDay: 36_000, returnSecondsIntoDay: 55_800, utcOffsetSeconds: 28_800)
        expected.limits = .init(maxRecordBytes: 4_096, maxDepth: 8, maxMessageCharacters: 100)
        expected.kafka = .init(
            group: "baocuo-canary", brokers: ["b1:9092", "b2:9092"],
            properties: ["sasl.username": "env-user", "security.protocol": "SASL_SSL"])
        expected.router = .init(maxInFlightRecords: 300, pollBatchSize: 300, commitIntervalMs: 250, producers: 1)
        expected.resolutions = .init(sharedTopicUntil: Timestamp.parseRFC3339("2026-12-31T16:00:00+08:00")!)
        expected.http = .init(port: 8080, host: "::")
        expected.logging = .init(level: .warning, format: .json)
        #expect(settings == expected)
    }

    @Test func environmentWinsOverTheFile() throws {
        let settings = try load("http:\n  port: 9000\n", environment: ["BAOCUO_HTTP_PORT": "9100"])
        #expect(settings.http.port == 9100)
        #expect(try load("kafka:\n  brokers: a:1\n").kafka.brokers == ["a:1"])
    }
}

@Suite struct SettingsErrorTests {
    @Test func unknownKeysNameTheLineAndTheKnownKeys() {
        #expect(
            loadError("topicPrefix: yb.\ntopicPrefx: yb.\n")?.description
                == #"baocuo.yaml:2: unknown key "topicPrefx"; known keys: topicPrefix, timeZone, schedule, limits, kafka, router, resolutions, http, lifecycle, scheduler, logging"#
        )
        #expect(
            loadError("router:\n  pollBatchSize: 10\n  maxInflightRecords: 10\n")?.description
                == #"baocuo.yaml:3: unknown key "router.maxInflightRecords"; known keys of router: maxInFlightRecords, pollBatchSize, commitIntervalMs, producers"#
        )
        #expect(loadError("kafka:\n  propertie:\n    acks: all\n")?.line == 2)
    }

    @Test func wrongTypesAndRangesNameTheLineAndSetting() {
        #expect(
            loadError("router:\n  pollBatchSize: lots\n")?.description
                == #"baocuo.yaml:2: router.pollBatchSize: expected an integer in 1...100000, got "lots""#)
        #expect(
            loadError("router:\n  producers: 0\n")?.description
                == #"baocuo.yaml:2: router.producers: expected an integer in 1...8, got "0""#)
        #expect(
            loadError("http:\n  port: 70000\n")?.description
                == #"baocuo.yaml:2: http.port: expected an integer in 0...65535, got "70000""#)
        #expect(
            loadError("schedule:\n  intakeTime: \"9:00\"\n")?.description
                == #"baocuo.yaml:2: schedule.intakeTime: expected a time of day HH:MM (00:00–23:59), got "9:00""#)
        #expect(loadError("schedule:\n  returnTime: \"24:00\"\n")?.line == 2)
        #expect(
            loadError("resolutions:\n  sharedTopicUntil: 2027-03-31\n")?.description
                == #"baocuo.yaml:2: resolutions.sharedTopicUntil: expected an RFC 3339 timestamp with an offset, e.g. 2027-03-31T00:00:00+08:00, got "2027-03-31""#
        )
        #expect(
            loadError("logging:\n  level: verbose\n")?.description
                == #"baocuo.yaml:2: logging.level: expected one of trace, debug, info, notice, warning, error, critical, got "verbose""#)
        #expect(loadError("limits:\n  maxDepth: 1000\n")?.line == 2)
        #expect(loadError("topicPrefix: \"yb/\"\n")?.reason.contains("A-Z a-z 0-9 . _ -") == true)
        #expect(loadError("kafka:\n  group: \"\"\n")?.reason == "kafka.group: expected a non-empty value")
        #expect(loadError("kafka:\n  brokers: [kafka-1]\n")?.reason == #"kafka.brokers: expected host:port entries, got "kafka-1""#)
    }

    @Test func wrongShapesAreErrors() {
        #expect(
            loadError("schedule: \"09:00\"\n")?.description
                == "baocuo.yaml:1: schedule: expected a mapping with keys intakeTime, returnTime")
        #expect(loadError("http:\n  port: [1, 2]\n")?.description == "baocuo.yaml:2: http.port: expected a single value, got a list")
        #expect(
            loadError("http:\n  port:\n  host: localhost\n")?.description
                == "baocuo.yaml:2: http.port: no value; remove the key to use the default")
        #expect(loadError("- a\n- b\n")?.line == 1)
        #expect(loadError("kafka:\n  properties: [acks]\n")?.reason.hasPrefix("kafka.properties: expected a mapping") == true)
    }

    @Test func propertyValuesAreNeverEchoed() {
        let error = loadError("kafka:\n  properties:\n    sasl.password: [hunter2]\n")
        #expect(error?.line == 3)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func syntaxErrorsAndDuplicateKeysHaveLines() {
        let syntax = loadError("http:\n  port: 9464\n   host: x\n")
        #expect(syntax?.line == 3)
        #expect(syntax?.reason.hasPrefix("invalid YAML") == true)
        #expect(loadError("http:\n  port: 1\n  port: 2\n")?.description == #"baocuo.yaml:2: duplicate key "port""#)
    }

    @Test func timeZonesMustHaveAFixedOffset() {
        #expect(loadError("timeZone: Europe/Berlin\n")?.reason.contains("observes daylight-saving time") == true)
        #expect(
            loadError("timeZone: Mars/Olympus\n")?.description
                == #"baocuo.yaml:1: timeZone: unknown time zone "Mars/Olympus": expected an IANA name such as Asia/Shanghai"#)
        #expect(loadError("", environment: ["BAOCUO_TIME_ZONE": "America/New_York"])?.file == "environment variable BAOCUO_TIME_ZONE")
    }

    @Test func environmentErrorsNameTheVariable() {
        #expect(
            loadError("", environment: ["BAOCUO_HTTP_PORT": "http"])?.description
                == #"environment variable BAOCUO_HTTP_PORT: expected an integer in 0...65535, got "http""#)
        #expect(loadError("", environment: ["BAOCUO_KAFKA_BROKERS": "a:1,b"])?.file == "environment variable BAOCUO_KAFKA_BROKERS")
        #expect(loadError("", environment: ["BAOCUO_KAFKA_PROPERTY_": "x"])?.file == "environment variable BAOCUO_KAFKA_PROPERTY_")
    }

    @Test func combinationsAreChecked() {
        #expect(
            loadError("schedule:\n  intakeTime: \"16:00\"\n")?.reason
                == "schedule.returnTime (16:00) must be later than schedule.intakeTime (16:00): a one-day week is due on its intake day")
        #expect(
            loadError("", environment: ["BAOCUO_ROUTER_POLL_BATCH_SIZE": "30000", "BAOCUO_ROUTER_MAX_IN_FLIGHT_RECORDS": "20000"])?.reason
                == "router.pollBatchSize (30000) must not exceed router.maxInFlightRecords (20000)")
    }
}

@Suite struct SettingsTopicNamesTests {
    @Test func contractTopicNames() {
        let topics = TopicNames(prefix: "yb.")
        #expect(topics.failures == "yb.settlement.failures")
        #expect(topics.failuresDLQ == "yb.settlement.failures.dlq")
        #expect(topics.ops == "yb.ops.incidents")
        #expect(topics.sharedResolutions == "yb.agency.resolutions")
        #expect(topics.resolutions(region: "210700") == "yb.agency.210700.resolutions")
        #expect(topics.resolutionsDLQ == "yb.agency.resolutions.dlq")
        #expect(topics.inbox(region: "210700") == "yb.agency.210700.inbox")
        #expect(topics.intake(region: "210700") == "yb.agency.210700.intake")
        #expect(topics.returns(province: "210000") == "yb.province.210000.returns")
    }

    @Test func theAgencyOfAResolutionsTopicIsReadFromItsName() {
        let topics = TopicNames(prefix: "yb.")
        #expect(topics.resolutionsRegion(of: "yb.agency.210700.resolutions") == "210700")
        #expect(topics.resolutionsRegion(of: topics.resolutions(region: "659001")) == "659001")
        for other in [
            "yb.agency.resolutions", "yb.agency.resolutions.dlq", "yb.agency.210700.inbox", "yb.agency.21070.resolutions",
            "yb.agency.2107000.resolutions", "yb.agency.21070x.resolutions", "stage-agency.210700.resolutions",
            "yb.agency.210700.resolutions.dlq",
        ] {
            #expect(topics.resolutionsRegion(of: other) == nil, "\(other)")
        }
    }

    @Test func prefixApplies() {
        let topics = TopicNames(prefix: "stage-")
        #expect(topics.failures == "stage-settlement.failures")
        #expect(topics.ops == "stage-ops.incidents")
        #expect(topics.returns(province: "410000") == "stage-province.410000.returns")
        #expect(TopicNames(prefix: "").inbox(region: "110100") == "agency.110100.inbox")
    }

    @Test func anUnknownBaocuoVariableFailsNamingTheClosestKnownOne() {
        let error = loadError("", environment: ["BAOCUO_ROUTER_MAX_INFLIGHT_RECORDS": "5"])
        #expect(error?.description.contains("BAOCUO_ROUTER_MAX_INFLIGHT_RECORDS") == true, "\(String(describing: error))")
        #expect(error?.description.contains("did you mean BAOCUO_ROUTER_MAX_IN_FLIGHT_RECORDS?") == true, "\(String(describing: error))")
        // Not settings, and accepted: the configuration folder, librdkafka properties, Kubernetes' service links.
        #expect(
            loadError(
                "",
                environment: [
                    "BAOCUO_CONFIG_DIR": "/etc/baocuo", "BAOCUO_KAFKA_PROPERTY_SASL_USERNAME": "baocuo", "BAOCUO_SERVICE_HOST": "10.0.0.1",
                    "BAOCUO_SERVICE_PORT_METRICS": "9464", "BAOCUO_PORT": "tcp://10.0.0.1:9464", "BAOCUO_PORT_9464_TCP_ADDR": "10.0.0.1",
                ]) == nil)
    }

    @Test func schedulerSettingsComeFromTheFileAndTheEnvironment() throws {
        let settings = try load(
            "scheduler:\n  tickSeconds: 5\n  startWeek: 2026-W49\n",
            environment: [
                "BAOCUO_SCHEDULER_LOOK_BACK_WEEKS": "2", "BAOCUO_SCHEDULER_DEADLINE_GRACE_SECONDS": "0",
            ])
        #expect(settings.scheduler.tickSeconds == 5)
        #expect(settings.scheduler.startWeek == IsoWeek("2026-W49"))
        #expect(settings.scheduler.lookBackWeeks == 2)
        #expect(settings.scheduler.deadlineGraceSeconds == 0)
        #expect(loadError("scheduler:\n  startWeek: 2026-49\n")?.description.contains("expected an ISO week") == true)
    }

    @Test func brokerListsAreValidated() {
        #expect(BaocuoSettings.invalidBrokerEntry(in: "127.0.0.1:abc") == "127.0.0.1:abc")
        #expect(BaocuoSettings.invalidBrokerEntry(in: "a:9092,b:0") == "b:0")
        #expect(BaocuoSettings.invalidBrokerEntry(in: "a:9092,[::1]:9093") == nil)
    }
}
