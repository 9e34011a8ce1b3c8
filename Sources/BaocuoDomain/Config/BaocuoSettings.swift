import Foundation  // TimeZone: an IANA zone name is resolved to its fixed offset once, at load.
import Yams

/// The service settings: `Config/baocuo.yaml`, then `BAOCUO_*` environment variables on top.
///
/// Every setting has a default, so an empty file is valid. Each YAML key path has an environment
/// variable named `BAOCUO_` + the path in upper snake case: `router.maxInFlightRecords` is
/// `BAOCUO_ROUTER_MAX_IN_FLIGHT_RECORDS`. librdkafka properties are set with
/// `BAOCUO_KAFKA_PROPERTY_<name, upper case, "." as "_">`, e.g. `BAOCUO_KAFKA_PROPERTY_SASL_USERNAME`
/// sets `sasl.username` (a property whose name has "_" can only be set in the file).
public struct BaocuoSettings: Sendable, Equatable {
    /// Prepended to every topic name (CONTRACT §1).
    public var topicPrefix = "yb."
    /// The IANA name of the service's time zone. It must not observe DST: the weekly cycle
    /// works with one fixed offset, kept in `schedule.utcOffsetSeconds`.
    public var timeZone = "Asia/Shanghai"
    /// Intake and return times of day, and the zone's offset.
    public var schedule = Schedule()
    /// Input limits for report records (`limits.*`, CONTRACT §2).
    public var limits = DecodeLimits()
    /// The Kafka connection and consumer group (`kafka.*`).
    public var kafka = Kafka()
    /// The router worker's batching and commit settings (`router.*`).
    public var router = Router()
    /// Agencies' resolutions (`resolutions.*`).
    public var resolutions = Resolutions()
    /// The `/metrics` and `/health` endpoint (`http.*`).
    public var http = HTTP()
    /// Start-up and stop bounds of `baocuo run` (`lifecycle.*`).
    public var lifecycle = Lifecycle()
    /// The weekly batch scheduler (`scheduler.*`).
    public var scheduler = Scheduler()
    /// Log level and format (`logging.*`).
    public var logging = Logging()

    /// All defaults: what an empty `baocuo.yaml` and no environment give.
    public init() {}

    /// The Kafka connection and consumer group (`kafka.*`).
    public struct Kafka: Sendable, Equatable {
        /// The consumer group of the router fleet.
        public var group = "baocuo-router"
        /// Bootstrap `host:port` list; empty when the command line supplies it.
        public var brokers: [String] = []
        /// Passed to librdkafka as is: `security.protocol`, `sasl.*`, `ssl.*`, …
        public var properties: [String: String] = [:]
    }

    /// The router worker (`router.*`).
    public struct Router: Sendable, Equatable {
        /// Records polled but not yet committed, across partitions: the worker's back-pressure bound.
        public var maxInFlightRecords = 64_000
        /// Records taken per poll.
        public var pollBatchSize = 16_000
        /// How often processed offsets are committed.
        public var commitIntervalMs = 200
        /// Idempotent producers the outputs are spread over, by topic.
        public var producers = 2
    }

    /// Agencies' resolutions (CONTRACT §5).
    public struct Resolutions: Sendable, Equatable {
        /// End of the migration window of the deprecated shared `yb.agency.resolutions`: its records
        /// recorded (Kafka timestamp) before this count where the payload agency owns the report;
        /// those recorded at or after it are refused `FORBIDDEN_AGENCY`.
        public var sharedTopicUntil = Timestamp.parseRFC3339("2027-03-31T00:00:00+08:00")!
    }

    /// The observability endpoint (`http.*`).
    public struct HTTP: Sendable, Equatable {
        /// Port of `/metrics` and `/health`; 0 picks a free port.
        public var port = 9464
        /// Address the endpoint listens on; the default `0.0.0.0` listens on every interface.
        public var host = "0.0.0.0"
    }

    /// The process watchdog of `baocuo run` (issue 32): bounds on start-up and on a stop.
    public struct Lifecycle: Sendable, Equatable {
        /// The services must be running (endpoint listening, router polling, signal handling
        /// installed) within this, or the process logs what it waits for and exits non-zero.
        public var startTimeoutMs = 30_000
        /// After a stop request (SIGTERM/SIGINT, or a failed service), in-flight outputs are awaited
        /// this long before the final commit; the watchdog gives the whole stop this plus
        /// ``stopMarginMs`` for the final commit and closing, then exits non-zero.
        public var drainTimeoutMs = 8_000
        /// The final commit and closing after the drain: not a setting, part of the 10 s contract.
        public static let stopMarginMs = 1_500

        /// All defaults.
        public init() {}
    }

    /// The weekly batch scheduler of every `baocuo run` worker (CONTRACT §6); each also has a
    /// `baocuo run` flag, which wins over the file and the environment.
    public struct Scheduler: Sendable, Equatable {
        /// Seconds between ticks; a tick also happens as soon as a batch falls due (`--scheduler-tick-seconds`).
        public var tickSeconds = 60
        /// Weeks before the current one re-checked at every tick for late data and missed
        /// emissions (`--look-back-weeks`).
        public var lookBackWeeks = 8
        /// Waited after an intake or due instant before the first emission, so that what was
        /// recorded just before it has been routed (`--settle-delay-seconds`).
        public var settleDelaySeconds = 60
        /// After a batch's due time, how long until it counts as missed: `baocuo_batch_deadline_missed`
        /// and `baocuo batch status` (exit 1) (`--deadline-grace-seconds`).
        public var deadlineGraceSeconds = 600
        /// The first week whose batches are emitted (`--start-week`). Unset: the oldest week with
        /// an emitted batch, or on a cluster without any the current week, so a first start emits
        /// no history.
        public var startWeek: IsoWeek?

        /// All defaults.
        public init() {}
    }

    /// Logging (`logging.*`).
    public struct Logging: Sendable, Equatable {
        /// The lowest level written.
        public var level = LogLevel.info
        /// Text lines or JSON lines.
        public var format = LogFormat.text
    }

    /// The swift-log levels.
    public enum LogLevel: String, Sendable, CaseIterable {
        /// The levels, from the most verbose (`trace`) to the least (`critical`).
        case trace, debug, info, notice, warning, error, critical
    }

    /// How each log event is written.
    public enum LogFormat: String, Sendable, CaseIterable {
        /// One human-readable line per event.
        case text
        /// One JSON object per line, for log collectors.
        case json
    }

    /// Reads `yaml` (named `source` in errors), then applies the `BAOCUO_*` variables of `environment`.
    ///
    /// Unknown keys, wrong types and out-of-range values are errors with the line; environment
    /// errors name the variable. An unknown `BAOCUO_*` variable is an error too, naming the closest
    /// known one, except the variables Kubernetes injects for a Service named `baocuo`
    /// (`BAOCUO_SERVICE_HOST`, `BAOCUO_SERVICE_PORT…`, `BAOCUO_PORT…`) and ``otherVariables``.
    public static func load(yaml: String, source: String, environment: [String: String]) throws(ConfigError) -> BaocuoSettings {
        var settings = BaocuoSettings()
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw configError(from: error, source: source)
        }
        if let root {
            try SettingsReader(source: source).read(root, at: [], into: &settings)
        }
        try applyEnvironment(environment, to: &settings)
        try settings.checkCombinations(source: source)
        return settings
    }

    /// The environment variables that override settings, in file order (the librdkafka
    /// properties' `BAOCUO_KAFKA_PROPERTY_*` family not included).
    public static let environmentVariables: [String] = Setting.all.map(\.environmentVariable)

    static let propertyVariablePrefix = "BAOCUO_KAFKA_PROPERTY_"

    /// `BAOCUO_*` variables that are not settings but are read elsewhere (`BAOCUO_CONFIG_DIR`: the
    /// configuration folder).
    public static let otherVariables: Set<String> = ["BAOCUO_CONFIG_DIR"]

    /// Prefixes of the variables Kubernetes sets for a Service named `baocuo` (docker links too).
    static let injectedVariablePrefixes = ["BAOCUO_SERVICE_HOST", "BAOCUO_SERVICE_PORT", "BAOCUO_PORT"]

    /// An error for the first unknown `BAOCUO_*` variable of `environment`, naming the closest known one.
    /// The first entry of a comma-separated bootstrap list (`--brokers`) that is not `host:port`
    /// with a port in 1...65535 (`127.0.0.1:abc` is one: librdkafka would take it as port 0); nil
    /// when every entry is valid.
    public static func invalidBrokerEntry(in list: String) -> String? {
        let entries = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return entries.first { !Setting.isHostAndPort($0) }
    }

    private static func checkUnknownVariables(_ environment: [String: String]) throws(ConfigError) {
        let known = Set(environmentVariables).union(otherVariables)
        for variable in environment.keys.sorted() where variable.hasPrefix("BAOCUO_") {
            if known.contains(variable) || variable.hasPrefix(propertyVariablePrefix)
                || injectedVariablePrefixes.contains(where: variable.hasPrefix)
            {
                continue
            }
            let closest = known.min { editDistance($0, variable) < editDistance($1, variable) } ?? ""
            throw ConfigError(
                file: "environment variable \(variable)",
                reason: "unknown setting; did you mean \(closest)? (the settings' variables: Config/baocuo.yaml)")
        }
    }

    /// Levenshtein distance, for suggesting the variable meant.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    private static func applyEnvironment(_ environment: [String: String], to settings: inout BaocuoSettings) throws(ConfigError) {
        try checkUnknownVariables(environment)
        for setting in Setting.all {
            guard let value = environment[setting.environmentVariable] else { continue }
            do throws(InvalidValue) {
                try setting.apply(.text(value), &settings)
            } catch {
                throw ConfigError(file: "environment variable \(setting.environmentVariable)", reason: error.reason)
            }
        }
        // Sorted, so that which of two conflicting variables wins does not depend on hashing.
        for (variable, value) in environment.sorted(by: { $0.key < $1.key }) where variable.hasPrefix(propertyVariablePrefix) {
            let name = variable.dropFirst(propertyVariablePrefix.count).lowercased().replacingOccurrences(of: "_", with: ".")
            guard !name.isEmpty else {
                throw ConfigError(
                    file: "environment variable \(variable)", reason: "no librdkafka property name after \(propertyVariablePrefix)")
            }
            settings.kafka.properties[name] = value
        }
    }

    private func checkCombinations(source: String) throws(ConfigError) {
        // The environment may have set either side, so name both places to look.
        let origin = "\(source) and BAOCUO_* environment"
        guard schedule.returnSecondsIntoDay > schedule.intakeSecondsIntoDay else {
            throw ConfigError(
                file: origin,
                reason: "schedule.returnTime (\(Self.clockText(schedule.returnSecondsIntoDay))) must be later "
                    + "than schedule.intakeTime (\(Self.clockText(schedule.intakeSecondsIntoDay))): "
                    + "a one-day week is due on its intake day")
        }
        guard router.pollBatchSize <= router.maxInFlightRecords else {
            throw ConfigError(
                file: origin,
                reason: "router.pollBatchSize (\(router.pollBatchSize)) must not exceed "
                    + "router.maxInFlightRecords (\(router.maxInFlightRecords))")
        }
    }

    private static func configError(from error: any Error, source: String) -> ConfigError {
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text))" } ?? ""
            return ConfigError(file: source, line: mark.line, reason: "invalid YAML: \(problem)\(during)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(
                file: source, line: context.mark.line,
                reason: "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", "))")
        default:
            return ConfigError(file: source, reason: "invalid YAML: \(error)")
        }
    }

    static func clockText(_ secondsIntoDay: Int) -> String {
        var out: [UInt8] = []
        appendDigits(&out, secondsIntoDay / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, secondsIntoDay / 60 % 60, width: 2)
        return String(decoding: out, as: UTF8.self)
    }
}

/// A value to apply to a setting: a scalar from YAML or the environment, or a YAML list.
private enum SettingValue {
    case text(String)
    case list([String])
}

/// Why a value cannot be used; the caller adds where it came from.
private struct InvalidValue: Error {
    var reason: String
}

/// One leaf setting: its YAML key path, from which its environment variable is derived, and how
/// a value is checked and stored. The one table both the YAML reader and the environment use.
private struct Setting: Sendable {
    let path: [String]
    let apply: @Sendable (SettingValue, inout BaocuoSettings) throws(InvalidValue) -> Void

    var dottedPath: String { path.joined(separator: ".") }

    /// `BAOCUO_` + the path in upper snake case.
    var environmentVariable: String {
        var name = "BAOCUO"
        for key in path {
            name += "_"
            for character in key {
                if character.isUppercase { name += "_" }
                name += character.uppercased()
            }
        }
        return name
    }

    static let all: [Setting] = [
        Setting(path: ["topicPrefix"]) { value, settings throws(InvalidValue) in
            // Kafka topic names: [A-Za-z0-9._-], at most 249 characters; the longest suffix we add is 23.
            let prefix = try text(value)
            guard prefix.utf8.count <= 226, prefix.utf8.allSatisfy(isTopicNameByte) else {
                throw InvalidValue(reason: "expected at most 226 characters of A-Z a-z 0-9 . _ -, got \"\(prefix)\"")
            }
            settings.topicPrefix = prefix
        },
        Setting(path: ["timeZone"]) { value, settings throws(InvalidValue) in
            let name = try text(value)
            settings.schedule.utcOffsetSeconds = try fixedOffset(ofZone: name)
            settings.timeZone = name
        },
        Setting(path: ["schedule", "intakeTime"]) { value, settings throws(InvalidValue) in
            settings.schedule.intakeSecondsIntoDay = try clockTime(value)
        },
        Setting(path: ["schedule", "returnTime"]) { value, settings throws(InvalidValue) in
            settings.schedule.returnSecondsIntoDay = try clockTime(value)
        },
        Setting(path: ["limits", "maxRecordBytes"]) { value, settings throws(InvalidValue) in
            settings.limits.maxRecordBytes = try integer(value, in: 1_024...67_108_864)
        },
        Setting(path: ["limits", "maxDepth"]) { value, settings throws(InvalidValue) in
            // Bounded so a hostile record cannot make the recursive parser exhaust the stack.
            settings.limits.maxDepth = try integer(value, in: 2...256)
        },
        Setting(path: ["limits", "maxMessageCharacters"]) { value, settings throws(InvalidValue) in
            settings.limits.maxMessageCharacters = try integer(value, in: 1...1_000_000)
        },
        Setting(path: ["kafka", "group"]) { value, settings throws(InvalidValue) in
            settings.kafka.group = try nonEmptyText(value)
        },
        Setting(path: ["kafka", "brokers"]) { value, settings throws(InvalidValue) in
            let entries: [String]
            switch value {
            case .list(let list): entries = list
            case .text(let text): entries = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
            for entry in entries where !isHostAndPort(entry) {
                throw InvalidValue(reason: "expected host:port entries, got \"\(entry)\"")
            }
            settings.kafka.brokers = entries
        },
        Setting(path: ["router", "maxInFlightRecords"]) { value, settings throws(InvalidValue) in
            settings.router.maxInFlightRecords = try integer(value, in: 1...1_000_000)
        },
        Setting(path: ["router", "pollBatchSize"]) { value, settings throws(InvalidValue) in
            settings.router.pollBatchSize = try integer(value, in: 1...100_000)
        },
        Setting(path: ["router", "commitIntervalMs"]) { value, settings throws(InvalidValue) in
            settings.router.commitIntervalMs = try integer(value, in: 10...60_000)
        },
        Setting(path: ["router", "producers"]) { value, settings throws(InvalidValue) in
            settings.router.producers = try integer(value, in: 1...8)
        },
        Setting(path: ["resolutions", "sharedTopicUntil"]) { value, settings throws(InvalidValue) in
            let text = try text(value)
            guard let instant = Timestamp.parseRFC3339(text) else {
                throw InvalidValue(reason: "expected an RFC 3339 timestamp with an offset, e.g. 2027-03-31T00:00:00+08:00, got \"\(text)\"")
            }
            settings.resolutions.sharedTopicUntil = instant
        },
        Setting(path: ["http", "port"]) { value, settings throws(InvalidValue) in
            settings.http.port = try integer(value, in: 0...65_535)
        },
        Setting(path: ["http", "host"]) { value, settings throws(InvalidValue) in
            settings.http.host = try nonEmptyText(value)
        },
        Setting(path: ["lifecycle", "startTimeoutMs"]) { value, settings throws(InvalidValue) in
            settings.lifecycle.startTimeoutMs = try integer(value, in: 1_000...600_000)
        },
        Setting(path: ["lifecycle", "drainTimeoutMs"]) { value, settings throws(InvalidValue) in
            settings.lifecycle.drainTimeoutMs = try integer(value, in: 100...60_000)
        },
        Setting(path: ["scheduler", "tickSeconds"]) { value, settings throws(InvalidValue) in
            settings.scheduler.tickSeconds = try integer(value, in: 1...3_600)
        },
        Setting(path: ["scheduler", "lookBackWeeks"]) { value, settings throws(InvalidValue) in
            settings.scheduler.lookBackWeeks = try integer(value, in: 0...52)
        },
        Setting(path: ["scheduler", "settleDelaySeconds"]) { value, settings throws(InvalidValue) in
            settings.scheduler.settleDelaySeconds = try integer(value, in: 0...3_600)
        },
        Setting(path: ["scheduler", "deadlineGraceSeconds"]) { value, settings throws(InvalidValue) in
            settings.scheduler.deadlineGraceSeconds = try integer(value, in: 0...86_400)
        },
        Setting(path: ["scheduler", "startWeek"]) { value, settings throws(InvalidValue) in
            let text = try text(value)
            guard let week = IsoWeek(text) else {
                throw InvalidValue(reason: "expected an ISO week YYYY-Www, e.g. 2026-W49, got \"\(text)\"")
            }
            settings.scheduler.startWeek = week
        },
        Setting(path: ["logging", "level"]) { value, settings throws(InvalidValue) in
            settings.logging.level = try choice(value, of: BaocuoSettings.LogLevel.self)
        },
        Setting(path: ["logging", "format"]) { value, settings throws(InvalidValue) in
            settings.logging.format = try choice(value, of: BaocuoSettings.LogFormat.self)
        },
    ]

    /// `kafka.properties` is a free-form map, read apart from the table.
    static let propertiesPath = ["kafka", "properties"]

    // MARK: Value checks

    private static func text(_ value: SettingValue) throws(InvalidValue) -> String {
        guard case .text(let text) = value else { throw InvalidValue(reason: "expected a single value, got a list") }
        return text
    }

    private static func nonEmptyText(_ value: SettingValue) throws(InvalidValue) -> String {
        let text = try text(value)
        guard !text.isEmpty else { throw InvalidValue(reason: "expected a non-empty value") }
        return text
    }

    private static func integer(_ value: SettingValue, in range: ClosedRange<Int>) throws(InvalidValue) -> Int {
        let text = try text(value)
        guard let number = Int(text), range.contains(number) else {
            throw InvalidValue(reason: "expected an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return number
    }

    private static func clockTime(_ value: SettingValue) throws(InvalidValue) -> Int {
        let text = try text(value)
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute)
        else { throw InvalidValue(reason: "expected a time of day HH:MM (00:00–23:59), got \"\(text)\"") }
        return hour * 3600 + minute * 60
    }

    private static func choice<Choice: RawRepresentable & CaseIterable>(_ value: SettingValue, of _: Choice.Type) throws(InvalidValue)
        -> Choice
    where Choice.RawValue == String {
        let text = try text(value)
        guard let choice = Choice(rawValue: text) else {
            let known = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw InvalidValue(reason: "expected one of \(known), got \"\(text)\"")
        }
        return choice
    }

    private static func isTopicNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// `host:port` with a port in 1...65535; the host may be a bracketed IPv6 address.
    static func isHostAndPort(_ entry: String) -> Bool {
        guard let colon = entry.lastIndex(of: ":"), colon != entry.startIndex,
            let port = Int(entry[entry.index(after: colon)...]), (1...65_535).contains(port)
        else { return false }
        return !entry[..<colon].contains(where: \.isWhitespace)
    }

    /// The UTC offset of an IANA zone that has no daylight-saving time.
    private static func fixedOffset(ofZone name: String) throws(InvalidValue) -> Int {
        guard let zone = TimeZone(identifier: name) else {
            throw InvalidValue(reason: "unknown time zone \"\(name)\": expected an IANA name such as Asia/Shanghai")
        }
        let now = Date()
        guard !zone.isDaylightSavingTime(for: now), zone.nextDaylightSavingTimeTransition(after: now) == nil else {
            throw InvalidValue(
                reason: "time zone \"\(name)\" observes daylight-saving time; the weekly cycle needs a zone with one fixed UTC offset")
        }
        return zone.secondsFromGMT(for: now)
    }
}

/// Walks the YAML tree, applying each leaf through `Setting.all` and rejecting unknown keys.
private struct SettingsReader {
    let source: String

    func read(_ node: Node, at path: [String], into settings: inout BaocuoSettings) throws(ConfigError) {
        let known = knownKeys(under: path)
        guard case .mapping(let mapping) = node else {
            throw error(node, path, "expected a mapping with keys \(known.joined(separator: ", "))")
        }
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let key) = keyNode else { throw error(keyNode, path, "expected a key name") }
            let childPath = path + [key.string]
            if childPath == Setting.propertiesPath {
                try readProperties(valueNode, into: &settings)
            } else if let setting = Setting.all.first(where: { $0.path == childPath }) {
                do throws(InvalidValue) {
                    try setting.apply(try value(of: valueNode), &settings)
                } catch {
                    throw self.error(valueNode, childPath, error.reason)
                }
            } else if known.contains(key.string) {
                try read(valueNode, at: childPath, into: &settings)
            } else {
                let place = path.isEmpty ? "" : " of \(path.joined(separator: "."))"
                throw error(
                    keyNode, [], "unknown key \"\(childPath.joined(separator: "."))\"; known keys\(place): \(known.joined(separator: ", "))"
                )
            }
        }
    }

    private func readProperties(_ node: Node, into settings: inout BaocuoSettings) throws(ConfigError) {
        guard case .mapping(let mapping) = node else {
            throw error(node, Setting.propertiesPath, "expected a mapping of librdkafka property names to values")
        }
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let key) = keyNode, !key.string.isEmpty else {
                throw error(keyNode, Setting.propertiesPath, "expected a librdkafka property name")
            }
            // The value is not echoed: properties hold passwords and keys.
            guard case .scalar(let value) = valueNode, valueNode.null == nil else {
                throw error(valueNode, Setting.propertiesPath + [key.string], "expected a single value")
            }
            settings.kafka.properties[key.string] = value.string
        }
    }

    /// The value of a leaf node, which must be a non-null scalar or a list of scalars.
    private func value(of node: Node) throws(InvalidValue) -> SettingValue {
        switch node {
        case .scalar(let scalar) where node.null == nil:
            // Scalars are taken as written, so YAML 1.1 surprises (09:00 as sexagesimal 540,
            // `on` as true) cannot change a value.
            return .text(scalar.string)
        case .scalar:
            throw InvalidValue(reason: "no value; remove the key to use the default")
        case .sequence(let sequence):
            var items: [String] = []
            for item in sequence {
                guard case .scalar(let scalar) = item, item.null == nil else {
                    throw InvalidValue(reason: "expected a list of single values")
                }
                items.append(scalar.string)
            }
            return .list(items)
        default:
            throw InvalidValue(reason: "expected a single value")
        }
    }

    /// The keys allowed directly under `path`, in file order.
    private func knownKeys(under path: [String]) -> [String] {
        var keys: [String] = []
        for candidate in Setting.all.map(\.path) + [Setting.propertiesPath]
        where candidate.count > path.count && Array(candidate.prefix(path.count)) == path {
            let key = candidate[path.count]
            if !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    private func error(_ node: Node, _ path: [String], _ reason: String) -> ConfigError {
        let prefix = path.isEmpty ? "" : path.joined(separator: ".") + ": "
        return ConfigError(file: source, line: node.mark?.line, reason: prefix + reason)
    }
}
