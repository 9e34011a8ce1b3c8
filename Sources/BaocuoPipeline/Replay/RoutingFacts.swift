import BaocuoDomain

/// What a routed v1 owner copy says about where a report went: what a replay compares.
public struct RoutingFacts: Sendable, Equatable {
    public var reportId: String
    public var category: String
    public var owner: String
    /// Sorted.
    public var cc: [String]
    public var rulesVersion: String?

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
        rulesVersion = document.member(of: root, named: "classifier").flatMap { string(document.member(of: $0, named: "rulesVersion")) }
    }

    public init(reportId: String, category: String, owner: String, cc: [String], rulesVersion: String? = nil) {
        self.reportId = reportId
        self.category = category
        self.owner = owner
        self.cc = cc.sorted()
        self.rulesVersion = rulesVersion
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

/// Where a replayed record went the previous time.
public enum PriorOutcome: Sendable, Equatable {
    /// An owner copy was found in the inboxes.
    case routed(RoutingFacts)
    /// The record is a dead letter with this code (a DLQ re-drive).
    case deadLettered(code: String)
    /// No earlier owner copy was found.
    case unknown
}

/// Where a replayed record goes now.
public enum CurrentOutcome: Sendable, Equatable {
    case routed(RoutingFacts)
    case rejected(code: String, detail: String)
}

/// The difference between a record's prior and current outcome.
public enum ReplayVerdict: Sendable, Equatable {
    case unchanged
    /// Routed before and now, to a different category, owner or cc list.
    case changed(category: Bool, owner: Bool, cc: Bool)
    /// Dead-lettered before, routed now (a successful re-drive).
    case nowRouted
    /// Dead-lettered before and now.
    case stillRejected
    /// Routed before, rejected now.
    case nowRejected
    /// No earlier owner copy; routed now.
    case routedWithoutPrior
    /// No earlier owner copy; rejected now.
    case rejectedWithoutPrior

    public init(prior: PriorOutcome, current: CurrentOutcome) {
        switch (prior, current) {
        case (.routed(let before), .routed(let now)):
            let category = before.category != now.category, owner = before.owner != now.owner, cc = before.cc != now.cc
            self = category || owner || cc ? .changed(category: category, owner: owner, cc: cc) : .unchanged
        case (.routed, .rejected): self = .nowRejected
        case (.deadLettered, .routed): self = .nowRouted
        case (.deadLettered, .rejected): self = .stillRejected
        case (.unknown, .routed): self = .routedWithoutPrior
        case (.unknown, .rejected): self = .rejectedWithoutPrior
        }
    }
}
