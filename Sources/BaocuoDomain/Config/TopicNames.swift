/// The Kafka topic names of CONTRACT §1, under a configurable prefix (default `yb.`).
public struct TopicNames: Sendable, Hashable {
    public let prefix: String
    /// Reports from hospitals and the provincial platform: `yb.settlement.failures`.
    public let failures: String
    /// Reports that cannot be routed, byte for byte: `yb.settlement.failures.dlq`.
    public let failuresDLQ: String
    /// System faults for operations, person IDs masked: `yb.ops.incidents`.
    public let ops: String
    /// Agencies' resolutions: `yb.agency.resolutions`.
    public let resolutions: String
    /// Malformed or forbidden resolutions: `yb.agency.resolutions.dlq`.
    public let resolutionsDLQ: String
    /// Internal: one marker per completed weekly batch emission (key batchId): `yb.baocuo.batches`.
    public let batches: String

    public init(prefix: String = "yb.") {
        self.prefix = prefix
        failures = prefix + "settlement.failures"
        failuresDLQ = prefix + "settlement.failures.dlq"
        ops = prefix + "ops.incidents"
        resolutions = prefix + "agency.resolutions"
        resolutionsDLQ = prefix + "agency.resolutions.dlq"
        batches = prefix + "baocuo.batches"
    }

    /// A pooling region's queue of routed reports: `yb.agency.{region}.inbox`.
    public func inbox(region: String) -> String { prefix + "agency." + region + ".inbox" }

    /// A pooling region's weekly intake batches: `yb.agency.{region}.intake`.
    public func intake(region: String) -> String { prefix + "agency." + region + ".intake" }

    /// A province's (`XX0000`) weekly return batches: `yb.province.{province}.returns`.
    public func returns(province: String) -> String { prefix + "province." + province + ".returns" }
}
