import BaocuoKafka
import Testing

@testable import BaocuoPipeline

/// The router's clients get exactly the librdkafka properties they had when each Pipeline file
/// assembled its own dictionary (before the typed configurations of BaocuoKafka).
struct ClientPropertiesTests {
    static let overrides = ["session.timeout.ms": "6000", "sasl.username": "baocuo", "linger.ms": "20"]

    @Test func theRouterConsumerKeepsItsProperties() {
        let worker = RouterWorker(
            options: RouterOptions(brokers: "127.0.0.1:1", group: "g", kafkaProperties: Self.overrides),
            rules: RouterRules(RecordRouter(configuration: TestConfiguration.shared, group: "g")),
            logger: TestLogging.logger
        )
        let properties = worker.consumerConfiguration().properties.properties
        #expect(
            properties == [
                "bootstrap.servers": "127.0.0.1:1",
                "group.id": "g",
                "client.id": "baocuo-router-\(ProcessIdentity.hostAndPID)",
                "enable.auto.commit": "false",
                "auto.offset.reset": "earliest",
                "partition.assignment.strategy": RebalanceProtocol.cooperativeSupported ? "cooperative-sticky" : "range,roundrobin",
                "fetch.wait.max.ms": "5",
                "statistics.interval.ms": "5000",
                // KafkaConsumer adds enable.auto.offset.store=false, as before.
                "session.timeout.ms": "6000",
                "sasl.username": "baocuo",
                "linger.ms": "20",
            ])
    }

    @Test func theOutputProducersKeepTheirProperties() {
        let configuration = OutputDelivery.producerConfiguration(
            brokers: "b:1", clientID: "c", maxRecordBytes: 1 << 20,
            overrides: Self.overrides)
        #expect(
            configuration.properties.properties == [
                "bootstrap.servers": "b:1",
                "client.id": "c",
                "enable.idempotence": "true",
                "linger.ms": "20",
                "batch.num.messages": "10000",
                "queue.buffering.max.messages": "500000",
                "message.max.bytes": "1114112",
                "sasl.username": "baocuo",
            ])
    }
}
