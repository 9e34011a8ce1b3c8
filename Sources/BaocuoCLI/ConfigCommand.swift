import ArgumentParser
import BaocuoDomain
import BaocuoKafka
import Foundation

/// `baocuo config check`: validates a configuration folder the way a worker would load it, and its
/// librdkafka properties the way a client would set them.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Inspect configuration.",
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration folder (with BAOCUO_* environment overrides applied); exit 1 on the first error.",
            discussion: """
                Prints a summary of what was loaded on stdout, or the file (or environment variable), line and reason \
                of the first problem on stderr. An unknown BAOCUO_* variable is an error naming the closest known one.
                """
        )

        @OptionGroup var configOptions: ConfigOptions

        @Option(name: .long, help: .hidden)  // tests: the instant the calendar's horizon is judged at
        var now: String?

        func run() throws {
            let directory = configOptions.config ?? DomainConfiguration.defaultDirectory()
            let configuration: DomainConfiguration
            do {
                configuration = try DomainConfiguration.load(directory: directory, warn: warnOnStandardError)
            } catch {
                var errorStream = StandardError()
                print("config: \(error)", to: &errorStream)
                throw ExitCode(1)
            }
            let settings = configuration.settings
            do {
                try KafkaConfiguration(settings.kafka.properties).validate()
            } catch {
                var errorStream = StandardError()
                print(
                    "config: kafka.properties (\(DomainConfiguration.settingsFile) and BAOCUO_KAFKA_PROPERTY_* environment): \(error.message)",
                    to: &errorStream)
                throw ExitCode(1)
            }
            let horizon = CalendarHorizon(calendar: configuration.calendar)
            print(
                """
                config: \(directory) is valid
                  topics        prefix \(settings.topicPrefix)
                  schedule      intake \(Self.clock(settings.schedule.intakeSecondsIntoDay)), \
                return \(Self.clock(settings.schedule.returnSecondsIntoDay)), \
                UTC\(settings.schedule.utcOffsetSeconds >= 0 ? "+" : "-")\(Self.clock(abs(settings.schedule.utcOffsetSeconds)))
                  regions       \(configuration.regions.regions.count) pooling regions in \(configuration.regions.provinces.count) provinces
                  calendar      \(horizon.summary)
                  rules         version \(configuration.classifier.rulesVersion)
                  kafka         group \(settings.kafka.group), \(settings.kafka.properties.count) librdkafka properties
                  scheduler     tick \(settings.scheduler.tickSeconds) s, look-back \(settings.scheduler.lookBackWeeks) weeks, \
                settle \(settings.scheduler.settleDelaySeconds) s, deadline grace \(settings.scheduler.deadlineGraceSeconds) s, \
                start week \(settings.scheduler.startWeek.map { "\($0)" } ?? "first emission (current week on an empty cluster)")
                """)
            let instant =
                now.flatMap(Timestamp.parseRFC3339)
                ?? Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
            if let warning = horizon.warning(at: instant) { print("warning: \(warning)") }
        }

        static func clock(_ seconds: Int) -> String {
            let hours = seconds / 3600
            let minutes = seconds / 60 % 60
            return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
        }
    }
}
