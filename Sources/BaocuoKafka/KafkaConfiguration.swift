import CRdKafka

/// librdkafka configuration properties (see librdkafka's CONFIGURATION.md), e.g.
/// `["bootstrap.servers": "127.0.0.1:9092", "group.id": "baocuo-router"]`.
///
/// Every client gets ``clientDefaults``, and producer and consumer add their own defaults, for keys
/// left unset: a value set here always wins.
public struct KafkaConfiguration: Sendable, Hashable {
    /// The raw property dictionary handed to `rd_kafka_conf_set`.
    public var properties: [String: String]

    /// The given librdkafka properties, used as they are (plus the client defaults).
    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    /// The value of one property, or `nil` when unset.
    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// A copy with `defaults` added for every key not already set.
    func withDefaults(_ defaults: [String: String]) -> KafkaConfiguration {
        KafkaConfiguration(properties.merging(defaults) { configured, _ in configured })
    }

    /// Defaults of every Baocuo client. Nagle off, as Java's kafka-clients always does: with Nagle on,
    /// a small produce request waits for the TCP ACK of the one before it (BENCHMARKS.md "Decision log").
    static let clientDefaults = [PropertyName.socketNagleDisable: "true"]

    /// A new `rd_kafka_conf_t` holding these properties, then ``clientDefaults`` for keys left unset.
    /// The caller owns it.
    func makeNative() throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        // Sorted so that a bad configuration always fails on the same key.
        for (key, value) in withDefaults(Self.clientDefaults).properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                // librdkafka's text for a bad value quotes the value; properties hold passwords and keys.
                let reason =
                    result == RD_KAFKA_CONF_INVALID
                    ? "invalid value, or not supported by this librdkafka build (the value is not shown)"
                    : String(errorBuffer: errorText)
                throw KafkaError(code: .invalidArgument, message: "configuration property \(key): \(reason)")
            }
        }
        return conf
    }

    /// Sets every property on a throwaway `rd_kafka_conf_t`, as a client would, without connecting:
    /// an unknown name or a refused value fails here, before a worker is started with it.
    /// (Combinations librdkafka checks only when it creates a client are not caught.)
    public func validate() throws(KafkaError) {
        rd_kafka_conf_destroy(try makeNative())
    }
}

/// The linked librdkafka version, e.g. `"2.0.2"`.
public var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }

/// The linked librdkafka version as `0xMMmmrrxx` (major, minor, revision, pre-release).
public var librdkafkaVersionNumber: Int32 { rd_kafka_version() }

/// Kafka protocol API keys, used to inject errors into a ``MockCluster``.
/// (librdkafka 2.0.2 does not export these constants.)
public struct KafkaAPIKey: Hashable, Sendable {
    /// The protocol's API key number.
    public let rawValue: Int16

    /// Any API key, named or not.
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let produce = KafkaAPIKey(rawValue: 0)
    public static let fetch = KafkaAPIKey(rawValue: 1)
    public static let listOffsets = KafkaAPIKey(rawValue: 2)
    public static let metadata = KafkaAPIKey(rawValue: 3)
    public static let offsetCommit = KafkaAPIKey(rawValue: 8)
    public static let offsetFetch = KafkaAPIKey(rawValue: 9)
    public static let findCoordinator = KafkaAPIKey(rawValue: 10)
    public static let joinGroup = KafkaAPIKey(rawValue: 11)
    public static let heartbeat = KafkaAPIKey(rawValue: 12)
    public static let leaveGroup = KafkaAPIKey(rawValue: 13)
    public static let syncGroup = KafkaAPIKey(rawValue: 14)
    public static let initProducerId = KafkaAPIKey(rawValue: 22)
    public static let addPartitionsToTxn = KafkaAPIKey(rawValue: 24)
    public static let addOffsetsToTxn = KafkaAPIKey(rawValue: 25)
    public static let endTxn = KafkaAPIKey(rawValue: 26)
    public static let txnOffsetCommit = KafkaAPIKey(rawValue: 28)
}

/// The librdkafka release CI runs every Kafka and pipeline test with (the `confluent-kafka` wheel's
/// library, scripts/test.sh) and Deploy/Dockerfile builds into the image, next to Debian's 2.0.2.
public enum TestedLibrdkafka {
    /// The tested release, e.g. for log lines and warnings.
    public static let version = "2.16.0"
    /// `0xMMmmrrxx` of ``version`` (a release: pre-release byte 0xff).
    public static let versionNumber: Int32 = 0x0210_00ff
    /// librdkafka 2.1 fixed KIP-482 tagged-field parsing; older clients cannot talk to brokers
    /// that send response tags (current Apache Kafka, tansu).
    public static let taggedFieldsFixed: Int32 = 0x0201_0000

    /// What a worker should warn about at start for the runtime library `version` (`number` as
    /// ``librdkafkaVersionNumber``): nothing for the tested release or newer.
    public static func warnings(version: String, number: Int32) -> [String] {
        var warnings: [String] = []
        // Major, minor and revision only: a pre-release of the tested version is older than it.
        if number < versionNumber {
            warnings.append(
                "librdkafka \(version) is older than \(Self.version), the release CI tests and Deploy/Dockerfile ships: "
                    + "behaviour the tests show (rebalance commits, incremental rebalancing, error codes) is not proven on it")
        }
        if number < taggedFieldsFixed {
            warnings.append("librdkafka \(version) is older than 2.1: it mis-parses tagged fields (KIP-482) from newer brokers")
        }
        return warnings
    }
}
