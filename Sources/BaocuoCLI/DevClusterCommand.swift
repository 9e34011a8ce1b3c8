import ArgumentParser
import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Logging
import NIOCore
import UnixSignals

/// `baocuo dev-cluster` (CONTRACT §8): librdkafka's mock cluster on 127.0.0.1 with the contract topics.
struct DevClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-cluster",
        abstract: "Serve an embedded Kafka-protocol cluster (librdkafka's mock) on 127.0.0.1 with the contract topics.",
        discussion: "Prints the bootstrap list as its first stdout line, then serves until SIGTERM or SIGINT. Data lives in memory only."
    )

    @Option(name: .long, help: "Number of brokers.")
    var brokers: Int = 3

    @Option(
        name: .long,
        help: """
            A fixed bootstrap port (forwarded to the first broker; the brokers themselves listen on free ports). \
            Default: the brokers' own ports.
            """)
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
        let cluster = try MockCluster(brokers: brokers, logger: logger)
        let layout = TopicLayout(
            names: TopicNames(prefix: configuration.settings.topicPrefix),
            regions: configuration.regions, inputPartitions: inputPartitions)
        try cluster.createTopics(layout.topics.map { ($0.name, $0.partitions) }, replicationFactor: min(3, brokers))
        var bootstrap = cluster.bootstrapServers
        var forwarder: BootstrapForwarder?
        if let port {
            let first = cluster.bootstrapServers.split(separator: ",")[0].split(separator: ":")
            forwarder = try await BootstrapForwarder.start(
                port: port, target: try SocketAddress(ipAddress: "127.0.0.1", port: Int(first[1])!))
            bootstrap = "127.0.0.1:\(port)"
        }
        FileHandle.standardOutput.write(Data((bootstrap + "\n").utf8))
        logger.info("dev cluster serving", metadata: ["bootstrap": "\(cluster.bootstrapServers)", "topics": "\(layout.topics.count)"])
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
        await forwarder?.close()
        cluster.close()
        logger.info("dev cluster stopped")
    }
}
