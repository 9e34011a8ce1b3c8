/// Where a record sits: its topic, partition and offset. Orders records that carry the same timestamp.
public struct RecordPosition: Sendable, Hashable, Comparable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public static func < (lhs: RecordPosition, rhs: RecordPosition) -> Bool {
        (lhs.topic, lhs.partition, lhs.offset) < (rhs.topic, rhs.partition, rhs.offset)
    }
}

/// Which kind of resolutions topic a record was read from (CONTRACT §5).
public enum ResolutionSource: Sendable, Hashable {
    /// `yb.agency.{region}.resolutions`: only that agency's principal may write it, so the topic
    /// names the resolving agency, whatever the payload says.
    case agency(String)
    /// The deprecated shared `yb.agency.resolutions`: any agency could write it, so the payload's
    /// `agency` is only a claim. Read during the migration window alone.
    case shared
}

/// A resolution v1 record as stored in the resolutions topic.
public struct ResolutionRecord: Sendable {
    public var value: [UInt8]
    /// The Kafka record timestamp: which deadline a resolution made is decided by when the
    /// broker log says it was published, not by the `resolvedAt` the agency wrote.
    public var recordedAt: Timestamp
    public var position: RecordPosition
    public var source: ResolutionSource

    public init(value: [UInt8], recordedAt: Timestamp, position: RecordPosition, source: ResolutionSource) {
        self.value = value
        self.recordedAt = recordedAt
        self.position = position
        self.source = source
    }
}

/// A valid resolution and when it was recorded.
public struct RecordedResolution: Sendable, Equatable {
    public var resolution: Resolution
    public var recordedAt: Timestamp
    public var position: RecordPosition

    public init(resolution: Resolution, recordedAt: Timestamp, position: RecordPosition) {
        self.resolution = resolution
        self.recordedAt = recordedAt
        self.position = position
    }

    /// Record order: timestamp, then place in the topic.
    func precedes(_ other: RecordedResolution) -> Bool {
        (recordedAt, position) < (other.recordedAt, other.position)
    }
}

/// The recorded data weekly batches are a function of: the owner copies of the agency inboxes
/// and the resolutions topics, validated and indexed. Built from a snapshot of the topics; it
/// never looks at a clock.
public struct BatchSources: Sendable {
    /// One owner copy per report: of duplicates (at-least-once delivery, replays) the earliest
    /// `receivedAt` wins, and of equal ones the first given.
    public let reports: [String: OwnerCopy]
    /// The reports of each owner region, sorted by reportId.
    public let reportsByOwner: [String: [OwnerCopy]]
    /// Valid resolutions per report, in record order.
    public let resolutions: [String: [RecordedResolution]]
    /// Resolutions that never count, with why, in the order given.
    public let refused: [(position: RecordPosition, rejection: Rejection)]

    /// `sharedTopicUntil`: the end of the shared topic's migration window (`resolutions.sharedTopicUntil`);
    /// a shared-topic record recorded at or after it is refused, so a rebuild gives the same batches
    /// whenever it runs.
    public init(ownerCopies: some Sequence<OwnerCopy>, resolutionRecords: [ResolutionRecord], sharedTopicUntil: Timestamp,
                decoder: ResolutionDecoder = ResolutionDecoder()) {
        var reports: [String: OwnerCopy] = [:]
        for copy in ownerCopies {
            if let kept = reports[copy.reportId], kept.receivedAt <= copy.receivedAt { continue }
            reports[copy.reportId] = copy
        }
        self.reports = reports
        reportsByOwner = Dictionary(grouping: reports.values, by: \.owner).mapValues { $0.sorted { $0.reportId < $1.reportId } }
        var resolutions: [String: [RecordedResolution]] = [:]
        var refused: [(RecordPosition, Rejection)] = []
        var parser = JSONParser()
        for record in resolutionRecords {
            switch Self.check(record, sharedTopicUntil: sharedTopicUntil, decoder: decoder, parser: &parser,
                              owner: { reports[$0]?.owner }) {
            case .success(let resolution):
                resolutions[resolution.reportId, default: []].append(
                    RecordedResolution(resolution: resolution, recordedAt: record.recordedAt, position: record.position))
            case .failure(let rejection):
                refused.append((record.position, rejection))
            }
        }
        self.resolutions = resolutions.mapValues { $0.sorted { $0.precedes($1) } }
        self.refused = refused
    }

    /// Validates one resolution (CONTRACT §5): decoding with the §2 reject codes; then
    /// `FORBIDDEN_AGENCY` when the payload's `agency` is not the agency the topic names, when a
    /// shared-topic record was recorded after the migration window, or unless the agency owns the
    /// report. A report no inbox holds has no owner, so no agency may resolve it.
    public static func check(_ record: ResolutionRecord, sharedTopicUntil: Timestamp, decoder: ResolutionDecoder,
                             parser: inout JSONParser, owner: (String) -> String?) -> Result<Resolution, Rejection> {
        let decoded = record.value.withUnsafeBytes { decoder.decode($0, using: &parser) }
        guard case .success(let resolution) = decoded else { return decoded }
        switch record.source {
        case .agency(let region) where region != resolution.agency:
            return .failure(Rejection(.forbiddenAgency, "agency: the payload names \(resolution.agency) but the record is on the resolutions topic of \(region); an agency resolves only as itself"))
        case .shared where record.recordedAt >= sharedTopicUntil:
            return .failure(Rejection(.forbiddenAgency, "agency: \(resolution.agency) wrote to the shared resolutions topic after its migration window (resolutions.sharedTopicUntil); resolutions go to the agency's own topic"))
        case .agency, .shared:
            break
        }
        guard let owner = owner(resolution.reportId) else {
            return .failure(Rejection(.forbiddenAgency, "agency: \(resolution.agency) cannot resolve a report that was never routed to it"))
        }
        guard owner == resolution.agency else {
            return .failure(Rejection(.forbiddenAgency, "agency: \(resolution.agency) does not own the report (owner \(owner))"))
        }
        return .success(resolution)
    }

    /// The resolution that counts for a deadline: the latest valid one recorded at or before it.
    public func resolution(of reportId: String, atOrBefore deadline: Timestamp) -> RecordedResolution? {
        resolutions[reportId]?.last { $0.recordedAt <= deadline }
    }
}
