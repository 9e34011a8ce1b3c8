/// The record of one completed emission, written to `{prefix}baocuo.batches` (key: batchId) only
/// after every item and the manifest of the batch were acknowledged. Its absence means the batch
/// may be incomplete and must be emitted (again); its digest and its cycle's `intakeAt` and
/// `dueBy` tell whether the batch as rebuilt now is still the one emitted (same items, same
/// manifest, same record timestamps).
public struct BatchMarker: Sendable, Equatable {
    /// The `schema` value of every batch marker.
    public static let schema = "baocuo.batch-marker/v1"

    /// The batch this marker stands for, e.g. `intake-110100-2026-W49`.
    public var batchId: String
    /// Intake or return batch.
    public var kind: BatchKind
    /// The ISO week of the batch's cycle.
    public var week: IsoWeek
    /// The region (intake) or province (return).
    public var scope: String
    /// The emission's revision: 1 first, one more each time the batch changed since.
    public var revision: Int
    /// The batch's `digest` when emitted (SHA-256, lower-case hex).
    public var digest: String
    /// How many items the batch had when emitted.
    public var itemCount: Int
    /// The cycle's intake instant and deadline the batch was emitted with (its manifest's
    /// `intakeAt` and `dueBy`). Nil in markers written before they were recorded: such a marker
    /// is compared by digest alone, so an upgrade re-emits nothing.
    public var intakeAt: Timestamp?
    /// See `intakeAt`: the deadline the batch was emitted with; nil in older markers.
    public var dueBy: Timestamp?
    /// When the emitting worker finished (its clock): for operators only, never read by batch logic.
    public var emittedAt: Timestamp

    /// The marker of `batch` emitted as `revision`, recording its digest, count and cycle instants.
    public init(batch: WeeklyBatch, revision: Int, emittedAt: Timestamp) {
        self.init(
            batchId: batch.batchId, kind: batch.kind, week: batch.cycle.week, scope: batch.scope,
            revision: revision, digest: batch.digest, itemCount: batch.itemCount,
            intakeAt: batch.cycle.intakeAt, dueBy: batch.cycle.dueBy, emittedAt: emittedAt)
    }

    /// A marker from its fields, as read back from the markers topic.
    public init(
        batchId: String, kind: BatchKind, week: IsoWeek, scope: String, revision: Int, digest: String,
        itemCount: Int, intakeAt: Timestamp? = nil, dueBy: Timestamp? = nil, emittedAt: Timestamp
    ) {
        self.batchId = batchId
        self.kind = kind
        self.week = week
        self.scope = scope
        self.revision = revision
        self.digest = digest
        self.itemCount = itemCount
        self.intakeAt = intakeAt
        self.dueBy = dueBy
        self.emittedAt = emittedAt
    }

    /// The marker record's value.
    public func encoded(utcOffsetSeconds: Int) -> [UInt8] {
        var out: [UInt8] = Array(#"{"schema":"#.utf8)
        JSONWriter.appendString(Self.schema, to: &out)
        for (key, value) in [("batchId", batchId), ("kind", kind.rawValue), ("week", week.description), ("scope", scope)] {
            out.append(UInt8(ascii: ","))
            JSONWriter.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.appendString(value, to: &out)
        }
        out.append(contentsOf: #","revision":\#(revision),"digest":"#.utf8)
        JSONWriter.appendString(digest, to: &out)
        out.append(contentsOf: #","itemCount":\#(itemCount)"#.utf8)
        let instants: [(String, Timestamp?)] = [("intakeAt", intakeAt), ("dueBy", dueBy), ("emittedAt", emittedAt)]
        for (key, instant) in instants {
            guard let instant else { continue }
            out.append(UInt8(ascii: ","))
            JSONWriter.appendString(key, to: &out)
            out.append(contentsOf: #":""#.utf8)
            instant.appendRFC3339(to: &out, utcOffsetSeconds: utcOffsetSeconds)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Reads a marker record; nil for anything else.
    public init?(record bytes: [UInt8]) {
        let marker: BatchMarker? = bytes.withUnsafeBytes { raw in
            var parser = JSONParser()
            guard case .success(let document) = parser.parse(raw), document.kind(document.root) == .object,
                let schema = document.member(of: document.root, named: "schema"), document.stringEquals(schema, "baocuo.batch-marker/v1")
            else { return nil }
            func string(_ name: StaticString) -> String? {
                guard let value = document.member(of: document.root, named: name), document.kind(value) == .string else { return nil }
                return document.string(value)
            }
            func integer(_ name: StaticString) -> Int? {
                guard let value = document.member(of: document.root, named: name), document.kind(value) == .number else { return nil }
                return Int(String(decoding: document.rawBytes(value), as: UTF8.self))
            }
            guard let batchId = string("batchId"), let kind = string("kind").flatMap(BatchKind.init(rawValue:)),
                let week = string("week").flatMap(IsoWeek.init), let scope = string("scope"),
                let revision = integer("revision"), let digest = string("digest"), let itemCount = integer("itemCount"),
                let emittedAt = string("emittedAt").flatMap(Timestamp.parseRFC3339)
            else { return nil }
            // Absent from older markers; present but unreadable makes the record no marker.
            var cycle: [Timestamp?] = []
            for name: StaticString in ["intakeAt", "dueBy"] {
                guard let text = string(name) else {
                    cycle.append(nil)
                    continue
                }
                guard let instant = Timestamp.parseRFC3339(text) else { return nil }
                cycle.append(instant)
            }
            return BatchMarker(
                batchId: batchId, kind: kind, week: week, scope: scope, revision: revision, digest: digest,
                itemCount: itemCount, intakeAt: cycle[0], dueBy: cycle[1], emittedAt: emittedAt)
        }
        guard let marker else { return nil }
        self = marker
    }

    /// The marker that stands for each batch, from markers in topic order: the highest revision,
    /// and of two equal ones (two workers that raced) the later.
    public static func latest(_ markers: some Sequence<BatchMarker>) -> [String: BatchMarker] {
        var latest: [String: BatchMarker] = [:]
        for marker in markers where marker.revision >= latest[marker.batchId]?.revision ?? 0 {
            latest[marker.batchId] = marker
        }
        return latest
    }

    /// Whether this marker stands for `batch` as built now: the same digest (items) and the same
    /// cycle instants (manifest, record timestamps). A marker without recorded instants (written
    /// before they were) is compared by digest alone.
    public func describes(_ batch: WeeklyBatch) -> Bool {
        digest == batch.digest && (intakeAt ?? batch.cycle.intakeAt) == batch.cycle.intakeAt
            && (dueBy ?? batch.cycle.dueBy) == batch.cycle.dueBy
    }

    /// What emitting `batch` means given the marker that stands for it: nothing when the marker
    /// describes the batch (`emitted`), otherwise a new revision — the first, or the next after
    /// the content changed (data arrived late) or the calendar moved the cycle's intake or
    /// deadline (a schedule loaded after the emission). A forced re-emission (operator rebuild)
    /// of an unchanged batch repeats the marker's revision, so its records are identical.
    public static func revision(for batch: WeeklyBatch, latest: BatchMarker?) -> (revision: Int, emitted: Bool) {
        guard let latest else { return (1, false) }
        return latest.describes(batch) ? (latest.revision, true) : (latest.revision + 1, false)
    }
}
