import BaocuoDomain
import BaocuoKafka
import BaocuoObservability
import Logging

enum LoggingSetup {
    /// Installs Baocuo's log handler (text or JSON lines, person IDs masked) process-wide, at
    /// `level` when given (a command's own choice), else at `logging.level`.
    static func bootstrap(settings: BaocuoSettings, label: String, level: BaocuoSettings.LogLevel? = nil) -> Logger {
        let level = Logger.Level(rawValue: (level ?? settings.logging.level).rawValue) ?? .info
        let format = settings.logging.format
        let offset = settings.schedule.utcOffsetSeconds
        LoggingSystem.bootstrap { label in
            BaocuoLogHandler(label: label, level: level, format: format, utcOffsetSeconds: offset)
        }
        return Logger(label: label)
    }
}

enum KafkaVersionCheck {
    /// Logs the runtime librdkafka and warns when it is older than the release CI tests
    /// (``TestedLibrdkafka``), e.g. Debian's 2.0.2 picked up instead of the image's library.
    static func log(to logger: Logger) {
        logger.info("librdkafka", metadata: ["version": "\(librdkafkaVersion)", "tested": "\(TestedLibrdkafka.version)"])
        for warning in TestedLibrdkafka.warnings(version: librdkafkaVersion, number: librdkafkaVersionNumber) {
            logger.warning("\(warning)")
        }
    }
}
