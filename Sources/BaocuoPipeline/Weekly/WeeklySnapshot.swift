import BaocuoDomain
import BaocuoKafka

/// What the weekly batches are built from, as read from Kafka: the emission markers, the
/// resolutions and the owner copies of every agency inbox.
public struct WeeklySnapshot: Sendable {
    /// The owner copies and resolutions, validated and indexed.
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

    /// Reads everything, once (`baocuo batch`, correction exports); the scheduler keeps a
    /// ``WeeklySnapshotFeed`` instead, which reads only what was appended since its last tick.
    /// `sharedTopicUntil`: the end of the shared topic's migration window (`BatchSources`).
    public static func read(reader: TopicReader, names: TopicNames, sharedTopicUntil: Timestamp) async throws -> WeeklySnapshot {
        try await WeeklySnapshotFeed(reader: reader, names: names, sharedTopicUntil: sharedTopicUntil).read().snapshot
    }

    /// The markers alone: cheap, for re-checking just before an emission.
    public static func readMarkers(reader: TopicReader, names: TopicNames) async throws -> [String: BatchMarker] {
        let records = try await reader.readAll(reader.topics { $0 == names.batches })
        return BatchMarker.latest(records.lazy.compactMap { BatchMarker(record: $0.value) })
    }
}

/// The scheduler's snapshot between ticks: it keeps the owner copies and resolutions read so far
/// and each partition's position, and a tick reads only what was appended since the last one.
/// (Re-reading every inbox's whole retention at every tick, in every worker, took CPU from routing
/// and grew with the retention.) Markers are small and are read whole each time.
///
/// A topic deleted and created again (a partition ending below a position already read) starts
/// the snapshot over with one full read.
public actor WeeklySnapshotFeed {
    private let reader: TopicReader
    private let names: TopicNames
    private let sharedTopicUntil: Timestamp
    private var resolutionPositions: [TopicPartition: Int64] = [:]
    private var inboxPositions: [TopicPartition: Int64] = [:]
    private var resolutionRecords: [StoredRecord] = []
    private var ownerCopies: [OwnerCopy] = []

    /// A feed reading with `reader`; shared-topic records are judged against `sharedTopicUntil`.
    public init(reader: TopicReader, names: TopicNames, sharedTopicUntil: Timestamp) {
        self.reader = reader
        self.names = names
        self.sharedTopicUntil = sharedTopicUntil
    }

    /// The snapshot now: the markers, and every resolution and owner copy up to the current ends;
    /// `appended`: the resolution and inbox records this read added.
    public func read() async throws -> (snapshot: WeeklySnapshot, appended: Int) {
        let appended: Int
        do {
            appended = try await readAppended()
        } catch is TopicRewoundError {
            resolutionPositions = [:]
            inboxPositions = [:]
            resolutionRecords = []
            ownerCopies = []
            appended = try await readAppended()
        }
        let markers = try await WeeklySnapshot.readMarkers(reader: reader, names: names)
        let resolutions = resolutionRecords.map { record in
            ResolutionRecord(
                value: record.value, recordedAt: Timestamp(millisecondsSinceEpoch: record.timestampMs ?? 0),
                position: record.position,
                source: names.resolutionsRegion(of: record.topic).map(ResolutionSource.agency) ?? .shared)
        }
        let snapshot = WeeklySnapshot(
            sources: BatchSources(ownerCopies: ownerCopies, resolutionRecords: resolutions, sharedTopicUntil: sharedTopicUntil),
            markers: markers, resolutionRecords: resolutionRecords)
        return (snapshot, appended)
    }

    /// Reads the resolutions before the inboxes: a resolution is published after its agency saw
    /// the owner copy, so every report a resolution read here refers to is in the inboxes read next.
    /// What a read adds is kept only once the read has completed, with its positions.
    private func readAppended() async throws -> Int {
        let names = self.names
        var newResolutions: [StoredRecord] = []
        let resolutionTopics = try await reader.topics { WeeklySnapshot.isResolutionsTopic($0, names: names) }
        let resolutionsReached = try await reader.forEachRecord(in: resolutionTopics, from: resolutionPositions) {
            newResolutions.append($0)
        }
        var newCopies: [OwnerCopy] = []
        var inboxRecords = 0
        let inboxes = try await reader.topics(matching: names.isInbox)
        let inboxesReached = try await reader.forEachRecord(in: inboxes, from: inboxPositions) { record in
            try Task.checkCancellation()
            inboxRecords += 1
            // The record's timestamp is when the router or a replay produced it: when the decision was made.
            if let copy = OwnerCopy(
                routedRecord: record.value, decidedAt: record.timestampMs.map(Timestamp.init(millisecondsSinceEpoch:)),
                position: record.position)
            {
                newCopies.append(copy)
            }
        }
        resolutionRecords += newResolutions
        resolutionPositions = resolutionsReached
        ownerCopies += newCopies
        inboxPositions = inboxesReached
        return newResolutions.count + inboxRecords
    }
}

extension StoredRecord {
    /// The record's topic, partition and offset.
    public var position: RecordPosition { RecordPosition(topic: topic, partition: partition, offset: offset) }
}
