import Crypto

/// The two kinds of weekly batch (CONTRACT §6).
public enum BatchKind: String, Sendable, CaseIterable {
    /// Per owner region: the reports of one intake, to `{prefix}agency.{region}.intake`.
    case intake
    /// Per province: outcomes of one week's intake plus carried-over reports, to `{prefix}province.{province}.returns`.
    case `return`
}

/// One report in an intake batch.
public struct IntakeItem: Sendable, Equatable {
    /// The report as routed to its owner.
    public var report: OwnerCopy

    /// An intake item for `report`.
    public init(report: OwnerCopy) {
        self.report = report
    }
}

/// One report in a return batch.
public struct ReturnItem: Sendable, Equatable {
    /// The report as routed to its owner.
    public var report: OwnerCopy
    /// The resolution that counts for the return's deadline; nil: `PENDING`.
    public var resolution: RecordedResolution?
    /// A report of an earlier week still unresolved at this return's deadline.
    public var overdue: Bool

    /// A return item for `report`, with the resolution that counts (nil: pending) and whether it is overdue.
    public init(report: OwnerCopy, resolution: RecordedResolution?, overdue: Bool) {
        self.report = report
        self.resolution = resolution
        self.overdue = overdue
    }

    /// The wire outcome: a resolution outcome or `PENDING`.
    public var outcome: String { resolution?.resolution.outcome.rawValue ?? ReturnItem.pending }

    /// The wire outcome of an unresolved report.
    public static let pending = "PENDING"
}

/// A built batch: its items in emission order, the digest over them and the counts of its manifest.
/// The content depends only on the recorded data and the calendar; the revision is chosen at
/// emission (see `BatchMarker.nextEmission`) and is not part of the digest.
public struct WeeklyBatch: Sendable {
    /// Intake or return batch.
    public let kind: BatchKind
    /// `intake-{region}-{YYYY-Www}` or `return-{province}-{YYYY-Www}`.
    public let batchId: String
    /// The owner region (intake) or the `XX0000` province (return).
    public let scope: String
    /// The weekly cycle the batch belongs to, as the calendar has it now.
    public let cycle: WeeklyCycle
    /// The items, in emission order.
    public let content: Content
    /// SHA-256 (lower-case hex) over each item's content fields followed by a newline, in item order.
    public let digest: String

    /// The items of an intake batch (reports received) or of a return batch (their outcomes).
    public enum Content: Sendable, Equatable {
        /// The reports of one region's intake, in emission order.
        case intake([IntakeItem])
        /// The outcomes of one province's return, in emission order.
        case `return`([ReturnItem])
    }

    init(kind: BatchKind, scope: String, cycle: WeeklyCycle, content: Content, encoder: BatchRecordEncoder) {
        self.kind = kind
        self.scope = scope
        self.cycle = cycle
        self.content = content
        self.batchId = WeeklyBatch.batchId(kind: kind, scope: scope, week: cycle.week)
        var hash = SHA256()
        var fields: [UInt8] = []
        for index in 0..<Self.count(content) {
            fields.removeAll(keepingCapacity: true)
            encoder.appendItemContent(of: content, at: index, scope: scope, to: &fields)
            fields.append(UInt8(ascii: "\n"))
            hash.update(data: fields)
        }
        let hexDigits = Array("0123456789abcdef".utf8)
        digest = String(decoding: hash.finalize().flatMap { [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    /// `KIND-SCOPE-WEEK`, e.g. `intake-110100-2026-W49`: the key of the batch and its marker.
    public static func batchId(kind: BatchKind, scope: String, week: IsoWeek) -> String {
        "\(kind.rawValue)-\(scope)-\(week)"
    }

    /// The number of items.
    public var itemCount: Int { Self.count(content) }

    private static func count(_ content: Content) -> Int {
        switch content {
        case .intake(let items): items.count
        case .return(let items): items.count
        }
    }

    /// Items per category, in taxonomy order, categories without items left out.
    public var categoryCounts: [(category: Category, count: Int)] {
        var counts: [Category: Int] = [:]
        switch content {
        case .intake(let items): for item in items { counts[item.report.category, default: 0] += 1 }
        case .return(let items): for item in items { counts[item.report.category, default: 0] += 1 }
        }
        return Category.allCases.compactMap { category in counts[category].map { (category, $0) } }
    }
}
