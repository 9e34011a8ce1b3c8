/// Where a record sits: its topic, partition and offset. Orders records that carry the same timestamp.
public struct RecordPosition: Sendable, Hashable, Comparable {
    /// The topic name.
    public var topic: String
    /// The partition within the topic.
    public var partition: Int32
    /// The record's offset within the partition.
    public var offset: Int64

    /// The position `offset` in `topic`'s partition `partition`.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// Orders by topic name, then partition, then offset.
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
    /// The record's value: resolution v1 JSON bytes, not yet decoded.
    public var value: [UInt8]
    /// The Kafka record timestamp: which deadline a resolution made is decided by when the
    /// broker log says it was published, not by the `resolvedAt` the agency wrote.
    public var recordedAt: Timestamp
    /// Where the record sits in its topic.
    public var position: RecordPosition
    /// Which resolutions topic the record came from: decides which agency it speaks for.
    public var source: ResolutionSource

    /// A record as read from a resolutions topic.
    public init(value: [UInt8], recordedAt: Timestamp, position: RecordPosition, source: ResolutionSource) {
        self.value = value
        self.recordedAt = recordedAt
        self.position = position
        self.source = source
    }
}

/// A valid resolution and when it was recorded.
public struct RecordedResolution: Sendable, Equatable {
    /// The decoded resolution.
    public var resolution: Resolution
    /// The Kafka record timestamp (see `ResolutionRecord.recordedAt`).
    public var recordedAt: Timestamp
    /// Where the resolution record sits in its topic.
    public var position: RecordPosition

    /// A resolution recorded at `recordedAt`, at `position`.
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

/// One owner a report had, from the decision that gave it on (CONTRACT §3, superseded decisions).
public struct OwnerTenure: Sendable, Equatable {
    /// The owner's pooling-region code (6 digits).
    public var owner: String
    /// When the decision giving this owner was made; nil when unknown.
    public var since: Timestamp?

    /// A tenure of `owner` from `since` (nil: unknown) on.
    public init(owner: String, since: Timestamp?) {
        self.owner = owner
        self.since = since
    }
}

/// The recorded data weekly batches are a function of: the owner copies of the agency inboxes
/// and the resolutions topics, validated and indexed. Built from a snapshot of the topics; it
/// never looks at a clock.
public struct BatchSources: Sendable {
    /// One owner copy per report: the latest routing decision (an original routing or an executed
    /// replay, ordered by when it was made: `decidedAt`, then position, then the order given)
    /// decides owner and category; the intake week, its instants and `receivedAt` are those of the
    /// first receipt (the copy with the earliest `receivedAt`), so a replay never moves a report
    /// into a later intake.
    public let reports: [String: OwnerCopy]
    /// The reports of each owner region, sorted by reportId.
    public let reportsByOwner: [String: [OwnerCopy]]
    /// The owners of reports that a later decision moved to another agency, in decision order
    /// (only reports with more than one owner are listed).
    public let ownerHistory: [String: [OwnerTenure]]
    /// Valid resolutions per report, in record order.
    public let resolutions: [String: [RecordedResolution]]
    /// Resolutions that never count, with why, in the order given.
    public let refused: [(position: RecordPosition, rejection: Rejection)]

    /// `sharedTopicUntil`: the end of the shared topic's migration window (`resolutions.sharedTopicUntil`);
    /// a shared-topic record recorded at or after it is refused, so a rebuild gives the same batches
    /// whenever it runs.
    public init(
        ownerCopies: some Sequence<OwnerCopy>, resolutionRecords: [ResolutionRecord], sharedTopicUntil: Timestamp,
        decoder: ResolutionDecoder = ResolutionDecoder()
    ) {
        var decisions: [String: [OwnerCopy]] = [:]
        for copy in ownerCopies { decisions[copy.reportId, default: []].append(copy) }
        var reports: [String: OwnerCopy] = [:]
        var ownerHistory: [String: [OwnerTenure]] = [:]
        reports.reserveCapacity(decisions.count)
        for (reportId, copies) in decisions {
            let ordered = copies.count == 1 ? copies : Self.inDecisionOrder(copies)
            var report = ordered[ordered.count - 1]
            var first = ordered[0]
            for copy in ordered.dropFirst() where copy.receivedAt < first.receivedAt { first = copy }
            report.intakeBatch = first.intakeBatch
            report.intakeAt = first.intakeAt
            report.dueBy = first.dueBy
            report.receivedAt = first.receivedAt
            reports[reportId] = report
            var tenures: [OwnerTenure] = []
            for copy in ordered where tenures.last?.owner != copy.owner {
                tenures.append(OwnerTenure(owner: copy.owner, since: copy.decidedAt))
            }
            if tenures.count > 1 { ownerHistory[reportId] = tenures }
        }
        self.reports = reports
        self.ownerHistory = ownerHistory
        reportsByOwner = Dictionary(grouping: reports.values, by: \.owner).mapValues { $0.sorted { $0.reportId < $1.reportId } }
        var resolutions: [String: [RecordedResolution]] = [:]
        var refused: [(RecordPosition, Rejection)] = []
        var parser = JSONParser()
        for record in resolutionRecords {
            switch Self.check(
                record, sharedTopicUntil: sharedTopicUntil, decoder: decoder, parser: &parser,
                owner: { reports[$0]?.owner }, history: { ownerHistory[$0] })
            {
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

    /// `copies` in decision order; a stable sort, so ties keep the order given.
    private static func inDecisionOrder(_ copies: [OwnerCopy]) -> [OwnerCopy] {
        copies.enumerated().sorted { left, right in
            left.element.decidedBefore(right.element) ?? (left.offset < right.offset)
        }.map(\.element)
    }

    /// The index of the owner at `instant` in `history` (the latest tenure begun at or before it; before the
    /// first decision, the first owner).
    static func tenure(at instant: Timestamp, history: [OwnerTenure]) -> Int {
        history.lastIndex { $0.since.map { $0 <= instant } ?? true } ?? 0
    }

    /// Validates one resolution (CONTRACT §5): decoding with the §2 reject codes; then
    /// `FORBIDDEN_AGENCY` when the payload's `agency` is not the agency the topic names, when a
    /// shared-topic record was recorded after the migration window, or unless the agency owns the
    /// report when the resolution is recorded. A report no inbox holds has no owner, so no agency
    /// may resolve it. `history`: the owners of a report a replay moved (`ownerHistory`): a former
    /// owner's resolution recorded before the withdrawal stays valid, one recorded after it is
    /// refused, naming the new owner.
    public static func check(
        _ record: ResolutionRecord, sharedTopicUntil: Timestamp, decoder: ResolutionDecoder,
        parser: inout JSONParser, owner: (String) -> String?,
        history: (String) -> [OwnerTenure]? = { _ in nil }
    ) -> Result<Resolution, Rejection> {
        let decoded = record.value.withUnsafeBytes { decoder.decode($0, using: &parser) }
        guard case .success(let resolution) = decoded else { return decoded }
        switch record.source {
        case .agency(let region) where region != resolution.agency:
            return .failure(
                Rejection(
                    .forbiddenAgency,
                    "agency: the payload names \(resolution.agency) but the record is on "
                        + "the resolutions topic of \(region); an agency resolves only as itself"))
        case .shared where record.recordedAt >= sharedTopicUntil:
            return .failure(
                Rejection(
                    .forbiddenAgency,
                    "agency: \(resolution.agency) wrote to the shared resolutions topic after its "
                        + "migration window (resolutions.sharedTopicUntil); resolutions go to the agency's own topic"))
        case .agency, .shared:
            break
        }
        guard let current = owner(resolution.reportId) else {
            return .failure(Rejection(.forbiddenAgency, "agency: \(resolution.agency) cannot resolve a report that was never routed to it"))
        }
        guard let tenures = history(resolution.reportId), tenures.count > 1 else {
            guard current == resolution.agency else {
                return .failure(Rejection(.forbiddenAgency, "agency: \(resolution.agency) does not own the report (owner \(current))"))
            }
            return .success(resolution)
        }
        let index = Self.tenure(at: record.recordedAt, history: tenures)
        let then = tenures[index]
        guard then.owner == resolution.agency else {
            // The agency owned it before and lost it by the time the resolution was recorded.
            if tenures[..<index].contains(where: { $0.owner == resolution.agency }) {
                let when = then.since.map { " at \($0.rfc3339(utcOffsetSeconds: 0))" } ?? ""
                return .failure(
                    Rejection(
                        .forbiddenAgency,
                        "agency: the report was withdrawn from \(resolution.agency)\(when) and now "
                            + "belongs to \(then.owner) (baocuo.withdrawn/v1); a resolution \(resolution.agency) records "
                            + "after the withdrawal never counts, \(then.owner) resolves it"))
            }
            return .failure(Rejection(.forbiddenAgency, "agency: \(resolution.agency) does not own the report (owner \(then.owner))"))
        }
        return .success(resolution)
    }

    /// The resolution that counts for a deadline: the latest valid one recorded at or before it.
    public func resolution(of reportId: String, atOrBefore deadline: Timestamp) -> RecordedResolution? {
        resolutions[reportId]?.last { $0.recordedAt <= deadline }
    }
}
