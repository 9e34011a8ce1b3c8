import BaocuoKafka
import Testing

struct ClientConfigurationTests {
    @Test func aConsumerSetsOnlyWhatIsGivenAndOverridesWin() {
        let minimal = ConsumerConfiguration(bootstrapServers: "b:1", groupID: "g")
        #expect(minimal.properties.properties == ["bootstrap.servers": "b:1", "group.id": "g", "enable.auto.commit": "false"])

        let full = ConsumerConfiguration(
            bootstrapServers: "b:1", groupID: "g", clientID: "c", autoOffsetReset: .earliest, assignmentStrategy: .cooperativeSticky,
            sessionTimeout: .seconds(6), heartbeatInterval: .milliseconds(500), fetchWaitMax: .milliseconds(5),
            isolationLevel: .readCommitted, reportsPartitionEnd: true, statisticsInterval: .seconds(5),
            overrides: ["fetch.wait.max.ms": "50", "security.protocol": "SSL"]
        )
        #expect(
            full.properties.properties == [
                "bootstrap.servers": "b:1", "group.id": "g", "client.id": "c", "enable.auto.commit": "false",
                "auto.offset.reset": "earliest", "partition.assignment.strategy": "cooperative-sticky",
                "session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "fetch.wait.max.ms": "50",
                "isolation.level": "read_committed", "enable.partition.eof": "true", "statistics.interval.ms": "5000",
                "security.protocol": "SSL",
            ])
        #expect(ConsumerConfiguration.withoutGroupID(["group.id": "x", "a": "b"]) == ["a": "b"])
    }

    @Test func aProducerIsIdempotentAndLeavesConsumerOnlyOverridesOut() {
        let producer = ProducerConfiguration(
            bootstrapServers: "b:1", linger: .milliseconds(5),
            overrides: ["group.id": "g", "session.timeout.ms": "6000", "sasl.mechanism": "PLAIN", "linger.ms": "7"]
        )
        #expect(
            producer.properties.properties == [
                "bootstrap.servers": "b:1", "enable.idempotence": "true", "linger.ms": "7", "sasl.mechanism": "PLAIN",
            ])
    }

    @Test func anAdminKeepsItsBootstrapServers() {
        let admin = AdminConfiguration(
            bootstrapServers: "b:1", overrides: ["bootstrap.servers": "other:1", "group.id": "g", "ssl.ca.location": "/ca"])
        #expect(admin.properties.properties == ["bootstrap.servers": "b:1", "ssl.ca.location": "/ca"])
    }

    @Test func thePreferredStrategyFollowsTheLibrary() {
        #expect(PartitionAssignmentStrategy.preferred == (RebalanceProtocol.cooperativeSupported ? .cooperativeSticky : .eager))
        #expect(PartitionAssignmentStrategy.cooperativeSticky.isCooperative)
        #expect(!PartitionAssignmentStrategy.eager.isCooperative)
    }
}
