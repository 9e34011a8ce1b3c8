import BaocuoDomain
import BaocuoKafka

/// What the weekly batches are built from, read whole from Kafka: the emission markers, the
/// resolutions and the owner copies of every agency inbox.
public struct WeeklySnapshot: Sendable {
    public var sources: BatchSources
    /// The marker standing for each batch id (see `BatchMarker.latest`).
    public var markers: [String: BatchMarker]
    /// The resolutions topics as read, for dead-lettering the refused ones.
    public var resolutionRecords: [StoredRecord]

    /// The topics resolutions are read from: every agency's `yb.agency.{region}.resolutions` that
    /// exists on the cluster (found by name, so a region added to the table needs no worker change),
    /// and the deprecated shared topic while it exists.
    public static func isResolutionsTopic(_ topic: String, names: TopicNames) -> Bool {
        topic == names.sharedResolutions || names.resolutionsRegion(of: topic) != nil
    }

    /// Reads the resolutions before the inboxes: a resolution is published after its agency saw
    /// the owner copy, so every report a resolution read here refers to is in the inboxes read next.
    /// `sharedTopicUntil`: the end of the shared topic's migration window (`BatchSources`).
    public static func read(reader: TopicReader, names: TopicNames, sharedTopicUntil: Timestamp) async throws -> WeeklySnapshot {
        let markers = try await readMarkers(reader: reader, names: names)
        let resolutionRecords = try await reader.readAll(reader.topics { isResolutionsTopic($0, names: names) })
        var ownerCopies: [OwnerCopy] = []
        let inboxes = try await reader.topics(matching: names.isInbox)
        try await reader.forEachRecord(in: inboxes) { record in
            try Task.checkCancellation()
            // The record's timestamp is when the router or a replay produced it: when the decision was made.
            if let copy = OwnerCopy(
                routedRecord: record.value, decidedAt: record.timestampMs.map(Timestamp.init(millisecondsSinceEpoch:)),
                position: record.position)
            {
                ownerCopies.append(copy)
            }
        }
        let resolutions = resolutionRecords.map { record in
            ResolutionRecord(
                value: record.value, recordedAt: Timestamp(millisecondsSinceEpoch: record.timestampMs ?? 0),
                position: record.position,
                source: names.resolutionsRegion(of: record.topic).map(ResolutionSource.agency) ?? .shared)
        }
        return WeeklySnapshot(
            sources: BatchSources(
                ownerCopies: ownerCopies, resolutionRecords: resolutions,
                sharedTopicUntil: sharedTopicUntil),
            markers: markers, resolutionRecords: resolutionRecords)
    }

    /// The markers alone: cheap, for re-checking just before an emission.
    public static func readMarkers(reader: TopicReader, names: TopicNames) async throws -> [String: BatchMarker] {
        let records = try await reader.readAll(reader.topics { $0 == names.batches })
        return BatchMarker.latest(records.lazy.compactMap { BatchMarker(record: $0.value) })
    }
}

extension StoredRecord {
    /// The record's topic, partition and offset.
    public var position: RecordPosition { RecordPosition(topic: topic, partition: partition, offset: offset) }
}
