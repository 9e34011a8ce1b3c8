import BaocuoDomain
import BaocuoKafka
import BaocuoPipeline

/// Accounts for every input record against what the fleet wrote: each input must end as exactly
/// one owner copy or one dead-letter record, with the cc and ops copies the taxonomy asks for, and
/// no routed copy in another region's topic. Where a replay superseded a report's decision (CONTRACT
/// §3), only the standing decision's copies count — those of the latest owner copy, by record
/// timestamp — and the earlier ones are `superseded`; `baocuo.withdrawn/v1` records are counted
/// apart. Check with the router of the rules that decided last. Test support (the fault matrix,
/// the fleet and process tests); not part of any production module.
struct Ledger: Sendable {
    /// The outcome of a check. `lost` and `duplicated` count records, not reports.
    public struct Result: Sendable, CustomStringConvertible {
        public var inputs = 0
        public var expectedRouted = 0
        public var expectedDeadLetters = 0
        public var ownerCopies = 0
        public var ccCopies = 0
        public var opsCopies = 0
        public var deadLetters = 0
        /// Copies of decisions a later one (a replay) superseded: not counted against the inputs.
        public var superseded = 0
        /// `baocuo.withdrawn/v1` records in the inboxes.
        public var withdrawals = 0
        /// Inputs with no owner copy / no dead-letter record.
        public var lost = 0
        /// Owner copies or dead-letter records beyond one per input.
        public var duplicated = 0
        /// cc or ops copies missing (duplicates of them are counted in `duplicatedCopies`).
        public var missingCopies = 0
        public var duplicatedCopies = 0
        /// Copies whose topic is not the region they name, or whose reportId no input has.
        public var misrouted = 0
        public var examples: [String] = []

        public var isExact: Bool { lost == 0 && duplicated == 0 && missingCopies == 0 && duplicatedCopies == 0 && misrouted == 0 }
        public var hasNoLoss: Bool { lost == 0 && missingCopies == 0 && misrouted == 0 }

        public var description: String {
            "inputs \(inputs) (routed \(expectedRouted), dead-letter \(expectedDeadLetters)); owner copies \(ownerCopies), cc \(ccCopies), ops \(opsCopies), dead letters \(deadLetters), superseded \(superseded), withdrawals \(withdrawals); lost \(lost), duplicated \(duplicated), missing copies \(missingCopies), duplicated copies \(duplicatedCopies), misrouted \(misrouted)"
                + (examples.isEmpty ? "" : "; e.g. " + examples.prefix(5).joined(separator: " | "))
        }
    }

    public let router: RecordRouter

    public init(router: RecordRouter) {
        self.router = router
    }

    /// `inputs`: the ingest topic; `outputs`: every inbox, the ops topic and the DLQ.
    public func check(inputs: [StoredRecord], outputs: [StoredRecord]) -> Result {
        var result = Result()
        result.inputs = inputs.count
        // Expected copies per (reportId, topic, role), from re-routing each input deterministically.
        var expected: [CopyKey: Int] = [:]
        var expectedDeadLetters: [SourceKey: Int] = [:]
        var scratch = OutputBatch()
        for input in inputs {
            scratch.removeAll()
            let source = SourcePosition(
                topic: input.topic, partition: input.partition, offset: input.offset, timestampMs: input.timestampMs ?? 0)
            let summary = input.value.withUnsafeBytes { value in
                router.route(
                    key: nil, value: value, source: source, headers: { [] },
                    failedAt: { Timestamp(millisecondsSinceEpoch: 0) }, into: &scratch)
            }
            switch summary {
            case .deadLettered:
                result.expectedDeadLetters += 1
                expectedDeadLetters[SourceKey(topic: input.topic, partition: input.partition, offset: input.offset), default: 0] += 1
            case .routed:
                result.expectedRouted += 1
                for index in scratch.records.indices {
                    let record = scratch.records[index]
                    guard let role = record.role,
                        let reportId = scratch.withBytes(of: index, { key, _ in key.map { String(decoding: $0, as: UTF8.self) } })
                    else { continue }
                    expected[CopyKey(reportId: reportId, topic: record.topic, role: role), default: 0] += 1
                }
            }
        }
        var actual: [CopyKey: Int] = [:]
        var actualDeadLetters: [SourceKey: Int] = [:]
        // The standing decision of each report: the decision of its latest owner copy.
        var standing: [String: (at: Int64, position: RecordPosition, decision: String)] = [:]
        var routedOutputs: [(output: StoredRecord, fields: RoutedFields, role: RoutedRole)] = []
        for output in outputs where output.topic != router.topics.failuresDLQ {
            if WithdrawnRecord(output.value) != nil {
                result.withdrawals += 1
                continue
            }
            guard let fields = RoutedFields(output.value), let role = RoutedRole(rawValue: fields.role) else {
                result.misrouted += 1
                result.examples.append("unreadable record in \(output.topic)@\(output.offset)")
                continue
            }
            routedOutputs.append((output, fields, role))
            guard role == .owner else { continue }
            let at = output.timestampMs ?? 0
            if let kept = standing[fields.reportId], (kept.at, kept.position) > (at, output.position) { continue }
            standing[fields.reportId] = (at, output.position, Self.decision(of: output))
        }
        for (output, fields, role) in routedOutputs {
            if let decision = standing[fields.reportId]?.decision, decision != Self.decision(of: output) {
                result.superseded += 1
                continue
            }
            switch role {
            case .owner: result.ownerCopies += 1
            case .cc: result.ccCopies += 1
            case .ops: result.opsCopies += 1
            }
            actual[CopyKey(reportId: fields.reportId, topic: output.topic, role: role), default: 0] += 1
        }
        for output in outputs where output.topic == router.topics.failuresDLQ {
            result.deadLetters += 1
            guard let topic = output.header(DeadLetterHeader.sourceTopic),
                let partition = output.header(DeadLetterHeader.sourcePartition).flatMap({ Int32($0) }),
                let offset = output.header(DeadLetterHeader.sourceOffset).flatMap({ Int64($0) })
            else {
                result.misrouted += 1
                result.examples.append("dead letter at \(output.partition)@\(output.offset) without source headers")
                continue
            }
            actualDeadLetters[SourceKey(topic: topic, partition: partition, offset: offset), default: 0] += 1
        }
        for (key, count) in expected {
            let got = actual[key] ?? 0
            let shortfall = max(0, count - got)
            let surplus = max(0, got - count)
            if key.role == .owner {
                result.lost += shortfall
                result.duplicated += surplus
            } else {
                result.missingCopies += shortfall
                result.duplicatedCopies += surplus
            }
            if shortfall > 0, result.examples.count < 10 {
                result.examples.append("\(key.role.rawValue) copy of \(key.reportId) missing in \(key.topic)")
            }
        }
        for (key, count) in actual where expected[key] == nil {
            result.misrouted += count
            if result.examples.count < 10 {
                result.examples.append("\(key.role.rawValue) copy of \(key.reportId) in unexpected \(key.topic)")
            }
        }
        for (key, count) in expectedDeadLetters {
            let got = actualDeadLetters[key] ?? 0
            result.lost += max(0, count - got)
            result.duplicated += max(0, got - count)
            if got < count, result.examples.count < 10 {
                result.examples.append("dead letter for \(key.topic)[\(key.partition)]@\(key.offset) missing")
            }
        }
        for (key, count) in actualDeadLetters where expectedDeadLetters[key] == nil {
            result.misrouted += count
        }
        return result
    }

    /// Which routing made a copy: the original routing (at-least-once repeats included) or one
    /// replay of one source record.
    private static func decision(of output: StoredRecord) -> String {
        guard let id = output.header(ReplayHeader.id) else { return "" }
        return id + "|" + (output.header(ReplayHeader.source) ?? "")
    }

    private struct CopyKey: Hashable {
        var reportId: String
        var topic: String
        var role: RoutedRole
    }

    private struct SourceKey: Hashable {
        var topic: String
        var partition: Int32
        var offset: Int64
    }
}

/// The few routed v1 fields the ledger needs, read with the domain's JSON parser.
struct RoutedFields {
    var reportId: String
    var role: String

    init?(_ bytes: [UInt8]) {
        var parser = JSONParser()
        let fields: (String, String)? = bytes.withUnsafeBytes { raw in
            // Our own output: it nests one level deeper, and holds a few more values, than the
            // report it embeds, so the report limits do not apply.
            guard case .success(let document) = parser.parse(raw, maxDepth: .max, maxValues: .max), document.kind(document.root) == .object,
                let reportId = document.member(of: document.root, named: "reportId"), document.kind(reportId) == .string,
                let role = document.member(of: document.root, named: "role"), document.kind(role) == .string
            else { return nil }
            return (document.string(reportId), document.string(role))
        }
        guard let fields else { return nil }
        (self.reportId, self.role) = fields
    }
}
