/// The fields of a routed v1 owner copy (CONTRACT §3) that weekly batches are built from.
///
/// Batches are built from what the router recorded (its `intakeBatch`, `receivedAt`), not
/// recomputed, so a report stays in the intake the agency saw it in. Its `intakeAt` and `dueBy`
/// are those of its time; batch items carry the week's current ones (`BatchBuilder`).
public struct OwnerCopy: Sendable, Hashable {
    /// The report's `reportId`.
    public var reportId: String
    /// The owner agency's pooling-region code.
    public var owner: String
    /// The report's category as routed.
    public var category: Category
    /// The ISO week of the intake this report belongs to.
    public var intakeBatch: IsoWeek
    /// The intake instant the router recorded for the report's cycle.
    public var intakeAt: Timestamp
    /// The return deadline the router recorded for the report's cycle.
    public var dueBy: Timestamp
    /// The ingest record's timestamp: decides which intake a report belongs to.
    public var receivedAt: Timestamp
    /// When this routing decision was made: the inbox record's Kafka timestamp (the time the router
    /// or a replay produced it). Of several decisions for one report the latest stands (CONTRACT §3,
    /// superseded decisions); nil when unknown (then the order given decides).
    public var decidedAt: Timestamp?
    /// Where the inbox record sits: orders decisions made in the same millisecond.
    public var decisionPosition: RecordPosition?

    /// An owner copy from its fields, taken as given.
    public init(
        reportId: String, owner: String, category: Category, intakeBatch: IsoWeek,
        intakeAt: Timestamp, dueBy: Timestamp, receivedAt: Timestamp,
        decidedAt: Timestamp? = nil, decisionPosition: RecordPosition? = nil
    ) {
        self.reportId = reportId
        self.owner = owner
        self.category = category
        self.intakeBatch = intakeBatch
        self.intakeAt = intakeAt
        self.dueBy = dueBy
        self.receivedAt = receivedAt
        self.decidedAt = decidedAt
        self.decisionPosition = decisionPosition
    }

    /// Decision order: by `decidedAt`, then by position (nil sorts first; callers break the
    /// remaining ties by the order given).
    func decidedBefore(_ other: OwnerCopy) -> Bool? {
        let left = decidedAt?.millisecondsSinceEpoch ?? .min
        let right = other.decidedAt?.millisecondsSinceEpoch ?? .min
        if left != right { return left < right }
        switch (decisionPosition, other.decisionPosition) {
        case (let l?, let r?) where l != r: return l < r
        case (nil, _?): return true
        case (_?, nil): return false
        default: return nil
        }
    }

    /// Reads the owner copy of routed v1 bytes; nil for `cc` and `ops` copies and for anything
    /// that is not a well-formed routed v1 record (inbox topics hold nothing else, so such a
    /// record can only be foreign and is not ours to batch).
    public init?(routedRecord bytes: UnsafeRawBufferPointer) {
        var parser = JSONParser()
        guard case .success(let document) = parser.parse(bytes), document.kind(document.root) == .object else { return nil }
        let root = document.root
        func string(_ name: StaticString) -> String? {
            guard let value = document.member(of: root, named: name), document.kind(value) == .string else { return nil }
            return document.string(value)
        }
        func timestamp(_ name: StaticString) -> Timestamp? {
            guard let value = document.member(of: root, named: name), document.kind(value) == .string else { return nil }
            return document.withStringBytes(value) { Timestamp.parseRFC3339($0) }
        }
        guard let schema = document.member(of: root, named: "schema"), document.stringEquals(schema, "baocuo.routed/v1"),
            let role = document.member(of: root, named: "role"), document.stringEquals(role, "owner"),
            let reportId = string("reportId"), let owner = string("owner"),
            let category = string("category").flatMap(Category.init(rawValue:)),
            let intakeBatch = string("intakeBatch").flatMap(IsoWeek.init),
            let intakeAt = timestamp("intakeAt"), let dueBy = timestamp("dueBy"), let receivedAt = timestamp("receivedAt")
        else { return nil }
        self.init(
            reportId: reportId, owner: owner, category: category, intakeBatch: intakeBatch,
            intakeAt: intakeAt, dueBy: dueBy, receivedAt: receivedAt)
    }

    /// Reads the owner copy of routed v1 `bytes` (see `init?(routedRecord:)` on raw bytes),
    /// recording when (`decidedAt`) and where (`position`) the inbox record was written.
    public init?(routedRecord bytes: [UInt8], decidedAt: Timestamp? = nil, position: RecordPosition? = nil) {
        guard let copy = bytes.withUnsafeBytes({ OwnerCopy(routedRecord: $0) }) else { return nil }
        self = copy
        self.decidedAt = decidedAt
        self.decisionPosition = position
    }
}
