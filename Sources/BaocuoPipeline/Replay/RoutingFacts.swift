import BaocuoDomain

/// What a routed v1 owner copy says about where a report went: what a replay compares.
public struct RoutingFacts: Sendable, Equatable {
    /// The report's `reportId`.
    public var reportId: String
    /// The category's wire id, e.g. `FILING_MISSING`.
    public var category: String
    /// The owner's pooling-region code (6 digits).
    public var owner: String
    /// Sorted.
    public var cc: [String]
    /// Whether the decision sends a masked copy to the ops topic (the category's, CONTRACT §4).
    public var ops: Bool
    /// `classifier.rulesVersion` of the routed record; nil when absent.
    public var rulesVersion: String?
    /// The intake week the router recorded (`intakeBatch`), when the record names one.
    public var intakeBatch: String?

    /// Reads a routed v1 record (CONTRACT §3); nil when it is not one or not an owner copy.
    public init?(ownerCopy bytes: UnsafeRawBufferPointer) {
        var parser = JSONParser()
        guard case .success(let document) = parser.parse(bytes), document.kind(document.root) == .object else { return nil }
        let root = document.root
        func string(_ value: JSONValue?) -> String? {
            guard let value, document.kind(value) == .string else { return nil }
            return document.string(value)
        }
        guard string(document.member(of: root, named: "role")) == RoutedRole.owner.rawValue,
            let reportId = string(document.member(of: root, named: "reportId")),
            let category = string(document.member(of: root, named: "category")),
            let owner = string(document.member(of: root, named: "owner"))
        else { return nil }
        self.reportId = reportId
        self.category = category
        self.owner = owner
        cc = document.member(of: root, named: "cc").map { array in document.elements(of: array).compactMap(string) }?.sorted() ?? []
        ops = Category(rawValue: category)?.copiesOps ?? false
        intakeBatch = string(document.member(of: root, named: "intakeBatch"))
        rulesVersion = document.member(of: root, named: "classifier").flatMap { string(document.member(of: $0, named: "rulesVersion")) }
    }

    /// Facts from their parts; `ops` follows from `category`, `cc` is sorted.
    public init(
        reportId: String, category: String, owner: String, cc: [String], rulesVersion: String? = nil,
        intakeBatch: String? = nil
    ) {
        self.reportId = reportId
        self.category = category
        self.owner = owner
        self.cc = cc.sorted()
        ops = Category(rawValue: category)?.copiesOps ?? false
        self.rulesVersion = rulesVersion
        self.intakeBatch = intakeBatch
    }

    /// Whether `other` routes the report the same way: same category, owner, cc list and ops copy.
    public func sameRouting(as other: RoutingFacts) -> Bool {
        category == other.category && owner == other.owner && cc == other.cc && ops == other.ops
    }
}

/// The reportId of a report v1 record, read without validating the rest; nil when unreadable.
enum ReportIdentity {
    static func reportId(in value: UnsafeRawBufferPointer) -> String? {
        var parser = JSONParser()
        guard case .success(let document) = parser.parse(value), document.kind(document.root) == .object,
            let id = document.member(of: document.root, named: "reportId"), document.kind(id) == .string
        else { return nil }
        return document.string(id)
    }
}

/// The decision that stands for a replayed record's report: the latest one made (by when it was
/// made), among the owner copies in the inboxes and the dead letters in the DLQ.
public enum PriorOutcome: Sendable, Equatable {
    /// An owner copy was found in the inboxes.
    case routed(RoutingFacts)
    /// The report was dead-lettered with this code.
    case deadLettered(code: String)
    /// No earlier owner copy or dead letter was found.
    case unknown
}

/// Where a replayed record goes now.
public enum CurrentOutcome: Sendable, Equatable {
    /// It routes now, with these facts.
    case routed(RoutingFacts)
    /// It is rejected now, with this reject code and detail.
    case rejected(code: String, detail: String)
}

/// The difference between a record's prior and current outcome.
public enum ReplayVerdict: Sendable, Equatable {
    /// Routed before and now the same way.
    case unchanged
    /// Routed before and now, to a different category, owner, cc list or ops copy.
    case changed(category: Bool, owner: Bool, cc: Bool, ops: Bool)
    /// Dead-lettered before, routed now (a successful re-drive).
    case nowRouted
    /// Dead-lettered before and now, with the same code: nothing changes, nothing is written again.
    case stillRejected
    /// Dead-lettered before and now, with another code.
    case rejectedDifferently(was: String)
    /// Routed before, rejected now.
    case nowRejected
    /// No earlier owner copy or dead letter; routed now.
    case routedWithoutPrior
    /// No earlier owner copy or dead letter; rejected now.
    case rejectedWithoutPrior

    /// The verdict comparing `prior` with `current`.
    public init(prior: PriorOutcome, current: CurrentOutcome) {
        switch (prior, current) {
        case (.routed(let before), .routed(let now)):
            let category = before.category != now.category
            let owner = before.owner != now.owner
            let cc = before.cc != now.cc
            let ops = before.ops != now.ops
            self = category || owner || cc || ops ? .changed(category: category, owner: owner, cc: cc, ops: ops) : .unchanged
        case (.routed, .rejected): self = .nowRejected
        case (.deadLettered, .routed): self = .nowRouted
        case (.deadLettered(let before), .rejected(let now, _)): self = before == now ? .stillRejected : .rejectedDifferently(was: before)
        case (.unknown, .routed): self = .routedWithoutPrior
        case (.unknown, .rejected): self = .rejectedWithoutPrior
        }
    }

    /// Whether the routing outcome differs from the standing decision: only then does an executing
    /// replay (without `--all`) produce outputs.
    public var isChange: Bool {
        switch self {
        case .unchanged, .stillRejected: false
        default: true
        }
    }
}
