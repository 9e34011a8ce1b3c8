import CRdKafka

/// Topic names by topic handle, so that the messages of a topic share one String. The last handle
/// is checked first: a poll batch or a delivery report mostly repeats it, and the check costs no hash.
/// Used by one thread at a time (a consumer's poll queue, a producer's poll loop).
final class TopicNameCache: @unchecked Sendable {
    // @unchecked: confined to its owner's queue, which runs one block at a time.
    private var names: [OpaquePointer: String] = [:]
    private var last: (handle: OpaquePointer, name: String)?

    /// The name of `topic`; "" for none.
    func name(of topic: OpaquePointer?) -> String {
        guard let topic else { return "" }
        if let last, last.handle == topic { return last.name }
        let name: String
        if let known = names[topic] {
            name = known
        } else {
            name = String(cString: rd_kafka_topic_name(topic))
            names[topic] = name
        }
        last = (topic, name)
        return name
    }
}
