import BaocuoDomain
import BaocuoKafka

/// Dead-letter header names (CONTRACT §1), and the headers of a dead-letter record: shared by the
/// report DLQ (router) and the resolutions DLQ (weekly scheduler).
public enum DeadLetterHeader {
    /// The reject code, e.g. `MISSING_FIELD`.
    public static let errorCode = "baocuo.error.code"
    /// The rejection's detail: field path and reason, never a person ID.
    public static let errorDetail = "baocuo.error.detail"
    /// The topic the failed record was first read from.
    public static let sourceTopic = "baocuo.source.topic"
    /// Its partition, in decimal.
    public static let sourcePartition = "baocuo.source.partition"
    /// Its offset, in decimal.
    public static let sourceOffset = "baocuo.source.offset"
    /// Its Kafka timestamp, RFC 3339 in the service's zone.
    public static let sourceTimestamp = "baocuo.source.timestamp"
    /// The consumer group that first read it.
    public static let sourceGroup = "baocuo.source.group"
    /// When it was dead-lettered, RFC 3339 in the service's zone.
    public static let failedAt = "baocuo.failed.at"
    /// How many times the record has been dead-lettered, in decimal: 1, then one more per re-drive.
    public static let attempts = "baocuo.attempts"
    static let sourceKeys = [sourceTopic, sourcePartition, sourceOffset, sourceTimestamp, sourceGroup]
    static let all: Set<String> = Set([errorCode, errorDetail, failedAt, attempts] + sourceKeys)

    /// The original headers minus any earlier Baocuo error headers, plus this failure's
    /// (CONTRACT §1). A re-driven record keeps its first origin (`baocuo.source.*`) so the first
    /// failure stays traceable, and counts attempts.
    /// - Parameter group: the consumer group that read the failed record (`baocuo.source.group`).
    public static func headers(
        original: [KafkaHeader], rejection: Rejection, source: SourcePosition, group: String,
        failedAt: Timestamp, utcOffsetSeconds: Int
    ) -> [KafkaHeader] {
        var previous: [String: [UInt8]?] = [:]
        var headers: [KafkaHeader] = []
        for header in original {
            if all.contains(header.key) {
                previous[header.key] = header.value
            } else {
                headers.append(header)
            }
        }
        let attemptsSoFar = previous[attempts].flatMap { $0.flatMap { Int(String(decoding: $0, as: UTF8.self)) } } ?? 0
        headers.append(KafkaHeader(key: errorCode, value: rejection.code.rawValue))
        headers.append(KafkaHeader(key: errorDetail, value: rejection.detail))
        if previous[sourceTopic] != nil {
            for key in sourceKeys {
                headers.append(KafkaHeader(key: key, value: previous[key] ?? nil))
            }
        } else {
            headers.append(KafkaHeader(key: sourceTopic, value: source.topic))
            headers.append(KafkaHeader(key: sourcePartition, value: String(source.partition)))
            headers.append(KafkaHeader(key: sourceOffset, value: String(source.offset)))
            headers.append(
                KafkaHeader(
                    key: sourceTimestamp,
                    value: Timestamp(millisecondsSinceEpoch: source.timestampMs).rfc3339(utcOffsetSeconds: utcOffsetSeconds)))
            headers.append(KafkaHeader(key: sourceGroup, value: group))
        }
        headers.append(KafkaHeader(key: DeadLetterHeader.failedAt, value: failedAt.rfc3339(utcOffsetSeconds: utcOffsetSeconds)))
        headers.append(KafkaHeader(key: attempts, value: String(attemptsSoFar + 1)))
        return headers
    }
}
