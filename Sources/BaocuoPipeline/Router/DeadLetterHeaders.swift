import BaocuoDomain
import BaocuoKafka

/// Dead-letter header names (CONTRACT §1), and the headers of a dead-letter record: shared by the
/// report DLQ (router) and the resolutions DLQ (weekly scheduler).
public enum DeadLetterHeader {
    public static let errorCode = "baocuo.error.code"
    public static let errorDetail = "baocuo.error.detail"
    public static let sourceTopic = "baocuo.source.topic"
    public static let sourcePartition = "baocuo.source.partition"
    public static let sourceOffset = "baocuo.source.offset"
    public static let sourceTimestamp = "baocuo.source.timestamp"
    public static let sourceGroup = "baocuo.source.group"
    public static let failedAt = "baocuo.failed.at"
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
