import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline
import Foundation
import Testing

/// `baocuo topics apply` against librdkafka's mock cluster, which has every layout topic the
/// fixture created (with one partition each) but implements no Admin API (no controller).
@Suite(.serialized)
struct TopicsApplyTests {
    func apply(prefix: String, brokers: String, _ extra: [String] = []) async throws -> (status: Int32?, stdout: String, log: String) {
        let process = try ChildProcess(
            ["topics", "apply", "--brokers", brokers] + extra,
            environment: ["BAOCUO_TOPIC_PREFIX": prefix], name: "topics-apply")
        let stdout = process.standardOutput()
        return (await process.waitForExit(timeout: .seconds(60)), stdout, process.log)
    }

    @Test func applyChecksThePresentLayoutAndSaysWhenTheClusterCannotCreateTopics() async throws {
        let fixture = try WeeklyFixture(prefix: "apply.")
        let count = TopicLayout(names: fixture.names, regions: fixture.configuration.regions).topics.count
        // The fixture made the ingest topic and the inboxes with one partition each: they differ.
        let present = try await apply(prefix: "apply.", brokers: fixture.brokers)
        #expect(present.status == 1, "\(present.stdout) \(present.log)")
        #expect(present.stdout.contains("differs  apply.settlement.failures: 1 partitions, the layout says 16"))
        #expect(
            present.stdout.contains("0 created, 0 failed, \(1 + fixture.configuration.regions.regions.count) differ"),
            "\(present.stdout.suffix(300))")
        #expect(present.stdout.contains("\(count) topics in the layout, \(count) on"))
        #expect(present.stdout.contains("configs not checked: the cluster implements no Admin API"))

        let dryRun = try await apply(prefix: "apply-missing.", brokers: fixture.brokers, ["--dry-run"])
        #expect(dryRun.status == 0)
        #expect(dryRun.stdout.contains("would create  apply-missing.settlement.failures 16 "), "\(dryRun.stdout.prefix(500))")

        let missing = try await apply(prefix: "apply-missing.", brokers: fixture.brokers)
        #expect(missing.status == 2)
        #expect(missing.log.contains("does not implement CreateTopics"), "\(missing.log)")
        #expect(!missing.log.contains("Usage:"))
    }
}
