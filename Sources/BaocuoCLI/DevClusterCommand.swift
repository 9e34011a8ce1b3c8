import ArgumentParser
import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Logging
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// `baocuo dev-cluster` (CONTRACT §8): librdkafka's mock cluster on 127.0.0.1 with the contract topics.
struct DevClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-cluster",
        abstract: "Serve an embedded Kafka-protocol cluster (librdkafka's mock) on 127.0.0.1 with the contract topics.",
        discussion: "Prints the bootstrap list as its first stdout line, then serves until SIGTERM or SIGINT. Data lives in memory only."
    )

    @Option(name: .long, help: "Number of brokers.")
    var brokers: Int = 3

    @Option(name: .long, help: "Port of the first broker (the others follow it); default: free ports chosen by the system.")
    var port: Int?

    @Option(name: .long, help: "Partitions of the ingest topic.")
    var inputPartitions: Int = 16

    @OptionGroup var configOptions: ConfigOptions

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be 1…16") }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1…65535") }
    }

    func run() async throws {
        let configuration = try configOptions.load()
        let logger = LoggingSetup.bootstrap(settings: configuration.settings, label: "baocuo.dev-cluster")
        let cluster = try MockCluster(brokers: brokers, firstPort: port, logger: logger)
        let layout = TopicLayout(names: TopicNames(prefix: configuration.settings.topicPrefix),
                                 regions: configuration.regions, inputPartitions: inputPartitions)
        for topic in layout.topics {
            try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: min(3, brokers))
        }
        print(cluster.bootstrapServers)
        fflush(stdout)
        logger.info("dev cluster serving", metadata: ["bootstrap": "\(cluster.bootstrapServers)", "topics": "\(layout.topics.count)"])
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
        cluster.close()
        logger.info("dev cluster stopped")
    }
}
