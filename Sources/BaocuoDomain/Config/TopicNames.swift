/// The Kafka topic names of CONTRACT §1, under a configurable prefix (default `yb.`).
public struct TopicNames: Sendable, Hashable {
    /// The prefix every topic name starts with, e.g. `yb.`.
    public let prefix: String
    /// Reports from hospitals and the provincial platform: `yb.settlement.failures`.
    public let failures: String
    /// Reports that cannot be routed, byte for byte: `yb.settlement.failures.dlq`.
    public let failuresDLQ: String
    /// System faults for operations, person IDs masked: `yb.ops.incidents`.
    public let ops: String
    /// The resolutions topic all agencies shared before CONTRACT 2026-12-06: `yb.agency.resolutions`.
    /// Deprecated: read only for the migration window (`resolutions.sharedTopicUntil`); each agency
    /// now writes `resolutions(region:)`.
    public let sharedResolutions: String
    /// Malformed or forbidden resolutions: `yb.agency.resolutions.dlq`.
    public let resolutionsDLQ: String
    /// Internal: one marker per completed weekly batch emission (key batchId): `yb.baocuo.batches`.
    public let batches: String

    /// Every name under `prefix`.
    public init(prefix: String = "yb.") {
        self.prefix = prefix
        failures = prefix + "settlement.failures"
        failuresDLQ = prefix + "settlement.failures.dlq"
        ops = prefix + "ops.incidents"
        sharedResolutions = prefix + "agency.resolutions"
        resolutionsDLQ = prefix + "agency.resolutions.dlq"
        batches = prefix + "baocuo.batches"
    }

    /// A pooling region's queue of routed reports: `yb.agency.{region}.inbox`.
    public func inbox(region: String) -> String { prefix + "agency." + region + ".inbox" }

    /// Whether `topic` is a pooling region's inbox (``inbox(region:)``).
    public func isInbox(_ topic: String) -> Bool { topic.hasPrefix(prefix + "agency.") && topic.hasSuffix(".inbox") }

    /// A pooling region's resolutions: `yb.agency.{region}.resolutions`. Only that agency's principal
    /// may write it (Deploy/acls.txt), so the topic, not the payload, names the resolving agency.
    public func resolutions(region: String) -> String { prefix + "agency." + region + ".resolutions" }

    /// The agency whose resolutions topic `topic` is (`yb.agency.{region}.resolutions`, a 6-digit
    /// region code), or nil for any other topic, the shared one included.
    public func resolutionsRegion(of topic: String) -> String? {
        let head = prefix + "agency."
        let tail = ".resolutions"
        guard topic.hasPrefix(head), topic.hasSuffix(tail), topic.utf8.count == head.utf8.count + 6 + tail.utf8.count else { return nil }
        let region = topic.dropFirst(head.count).dropLast(tail.count)
        guard region.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return String(region)
    }

    /// A pooling region's weekly intake batches: `yb.agency.{region}.intake`.
    public func intake(region: String) -> String { prefix + "agency." + region + ".intake" }

    /// A province's (`XX0000`) weekly return batches: `yb.province.{province}.returns`.
    public func returns(province: String) -> String { prefix + "province." + province + ".returns" }
}
