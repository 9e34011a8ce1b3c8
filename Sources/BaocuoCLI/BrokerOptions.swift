import ArgumentParser
import BaocuoDomain

/// `--brokers` of the commands that connect to a cluster (`run`, `replay`, `batch`).
struct BrokerOptions: ParsableArguments {
    @Option(name: .long, help: "Bootstrap brokers, HOST:PORT[,...] (default: kafka.brokers of baocuo.yaml).")
    var brokers: String?

    func validate() throws {
        if let brokers, let entry = BaocuoSettings.invalidBrokerEntry(in: brokers) {
            throw ValidationError("--brokers: expected HOST:PORT[,...] with ports 1-65535, got \"\(entry)\"")
        }
    }

    /// `--brokers`, or else `kafka.brokers` of `settings`; an error when neither is set.
    func resolve(_ settings: BaocuoSettings) throws -> String {
        guard let resolved = brokers ?? (settings.kafka.brokers.isEmpty ? nil : settings.kafka.brokers.joined(separator: ",")) else {
            throw ValidationError("no brokers: pass --brokers HOST:PORT or set kafka.brokers / BAOCUO_KAFKA_BROKERS")
        }
        return resolved
    }
}
