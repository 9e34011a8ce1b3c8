import BaocuoKafka
import Testing

@testable import BaocuoPipeline

/// TLS and SASL settings reach librdkafka unchanged (CONTRACT: deployments configure them in
/// `kafka.properties` or `BAOCUO_KAFKA_PROPERTY_*`).
struct SecurityPropertiesTests {
    static let security = [
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "baocuo",
        "sasl.password": "secret",
        "ssl.ca.location": "/etc/ssl/certs/ca-certificates.crt",
    ]

    @Test func bothClientsOfAWorkerCarryTheSecuritySettings() {
        let worker = RouterWorker(
            options: RouterOptions(brokers: "127.0.0.1:1", group: "g", kafkaProperties: Self.security),
            rules: RouterRules(RecordRouter(configuration: TestConfiguration.shared, group: "g")),
            logger: TestLogging.logger
        )
        let consumer = worker.consumerConfiguration().properties
        let producer = OutputDelivery.producerConfiguration(
            brokers: "127.0.0.1:1", clientID: "c", maxRecordBytes: 1 << 20,
            overrides: Self.security
        ).properties
        for (key, value) in Self.security {
            #expect(consumer[key] == value, "consumer \(key)")
            #expect(producer[key] == value, "producer \(key)")
        }
    }

    @Test func librdkafkaAcceptsThemAndNamesABadOne() async throws {
        var properties = Self.security
        properties["bootstrap.servers"] = "127.0.0.1:1"
        let producer = try KafkaProducer(configuration: KafkaConfiguration(properties), logger: TestLogging.logger)
        await producer.close(timeout: .milliseconds(100))
        properties["security.protocol"] = "carrier-pigeon"
        #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(configuration: KafkaConfiguration(properties), logger: TestLogging.logger)
        }
    }
}
