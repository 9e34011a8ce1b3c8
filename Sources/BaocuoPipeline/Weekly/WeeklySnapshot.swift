import BaocuoDomain
import BaocuoKafka

/// What the weekly batches are built from, read whole from Kafka: the emission markers, the
/// resolutions and the owner copies of every agency inbox.
public struct WeeklySnapshot: Sendable {
    public var sources: BatchSources
    /// The marker standing for each batch id (see `BatchMarker.latest`).
    public var markers: [String: BatchMarker]
    /// The resolutions topic as read, for dead-lettering the refused ones.
    public var resolutionRecords: [StoredRecord]

    /// Reads the resolutions before the inboxes: a resolution is published after its agency saw
    /// the owner copy, so every report a resolution read here refers to is in the inboxes read next.
    public static func read(reader: TopicReader, names: TopicNames) async throws -> WeeklySnapshot {
        let markers = try await readMarkers(reader: reader, names: names)
        let resolutionRecords = try await reader.readAll(reader.topics { $0 == names.resolutions })
        var ownerCopies: [OwnerCopy] = []
        let inboxPrefix = names.prefix + "agency."
        let inboxes = try await reader.topics { $0.hasPrefix(inboxPrefix) && $0.hasSuffix(".inbox") }
        try await reader.forEachRecord(in: inboxes) { record in
            try Task.checkCancellation()
            if let copy = OwnerCopy(routedRecord: record.value) { ownerCopies.append(copy) }
        }
        let resolutions = resolutionRecords.map { record in
            ResolutionRecord(value: record.value, recordedAt: Timestamp(millisecondsSinceEpoch: record.timestampMs ?? 0),
                             position: RecordPosition(partition: record.partition, offset: record.offset))
        }
        return WeeklySnapshot(sources: BatchSources(ownerCopies: ownerCopies, resolutionRecords: resolutions),
                              markers: markers, resolutionRecords: resolutionRecords)
    }

    /// The markers alone: cheap, for re-checking just before an emission.
    public static func readMarkers(reader: TopicReader, names: TopicNames) async throws -> [String: BatchMarker] {
        let records = try await reader.readAll(reader.topics { $0 == names.batches })
        return BatchMarker.latest(records.lazy.compactMap { BatchMarker(record: $0.value) })
    }
}
