import BaocuoDomain
import BaocuoKafka
import BaocuoObservability
import Logging

enum LoggingSetup {
    /// Installs Baocuo's log handler (text or JSON lines, person IDs masked) process-wide.
    static func bootstrap(settings: BaocuoSettings, label: String) -> Logger {
        let level = Logger.Level(rawValue: settings.logging.level.rawValue) ?? .info
        let format = settings.logging.format
        let offset = settings.schedule.utcOffsetSeconds
        LoggingSystem.bootstrap { label in
            BaocuoLogHandler(label: label, level: level, format: format, utcOffsetSeconds: offset)
        }
        return Logger(label: label)
    }
}

enum KafkaVersionCheck {
    /// librdkafka 2.1 fixed KIP-482 tagged-field parsing; older clients cannot talk to brokers
    /// that send response tags.
    static let minimumRecommended: Int32 = 0x0201_0000

    static func log(to logger: Logger) {
        logger.info("librdkafka", metadata: ["version": "\(librdkafkaVersion)"])
        if librdkafkaVersionNumber < minimumRecommended {
            logger.warning("librdkafka \(librdkafkaVersion) is older than 2.1: it mis-parses tagged fields (KIP-482) from newer brokers; production images should ship librdkafka ≥ 2.3")
        }
    }
}
