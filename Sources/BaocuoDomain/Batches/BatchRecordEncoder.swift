/// Writes the records of a weekly batch (CONTRACT §6) as UTF-8 JSON: one item record per report,
/// then the manifest. The same batch and revision always give the same bytes, so a re-emission
/// repeats the first one exactly.
public struct BatchRecordEncoder: Sendable {
    /// The service zone's offset east of UTC, in seconds: the records' times are written in it.
    public let utcOffsetSeconds: Int

    /// The `schema` value of intake item records.
    public static let intakeItemSchema = "baocuo.intake-item/v1"
    /// The `schema` value of intake manifest records.
    public static let intakeManifestSchema = "baocuo.intake-manifest/v1"
    /// The `schema` value of return item records.
    public static let returnItemSchema = "baocuo.return-item/v1"
    /// The `schema` value of return manifest records.
    public static let returnManifestSchema = "baocuo.return-manifest/v1"

    /// An encoder writing times at `utcOffsetSeconds` east of UTC.
    public init(utcOffsetSeconds: Int) {
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// The record values of `batch` at `revision`: the items in order, the manifest last.
    public func records(of batch: WeeklyBatch, revision: Int) -> [[UInt8]] {
        var records: [[UInt8]] = []
        records.reserveCapacity(batch.itemCount + 1)
        for index in 0..<batch.itemCount {
            var out: [UInt8] = []
            appendHeader(
                schema: batch.kind == .intake ? Self.intakeItemSchema : Self.returnItemSchema,
                batchId: batch.batchId, revision: revision, to: &out)
            out.append(UInt8(ascii: ","))
            appendItemContent(of: batch.content, at: index, scope: batch.scope, to: &out)
            out.append(UInt8(ascii: "}"))
            records.append(out)
        }
        records.append(manifest(of: batch, revision: revision))
        return records
    }

    /// The manifest record of `batch` at `revision`.
    public func manifest(of batch: WeeklyBatch, revision: Int) -> [UInt8] {
        var out: [UInt8] = []
        appendHeader(
            schema: batch.kind == .intake ? Self.intakeManifestSchema : Self.returnManifestSchema,
            batchId: batch.batchId, revision: revision, to: &out)
        appendField(batch.kind == .intake ? "region" : "province", batch.scope, to: &out)
        appendField("intakeBatch", batch.cycle.week.description, to: &out)
        appendField("intakeAt", batch.cycle.intakeAt, to: &out)
        appendField("dueBy", batch.cycle.dueBy, to: &out)
        appendField("itemCount", batch.itemCount, to: &out)
        if case .return(let items) = batch.content {
            let carried = items.count { $0.overdue }
            appendField("currentCount", items.count - carried, to: &out)
            appendField("carriedOverCount", carried, to: &out)
            var outcomes: [String: Int] = [:]
            for item in items { outcomes[item.outcome, default: 0] += 1 }
            let order = ResolutionOutcome.allCases.map(\.rawValue) + [ReturnItem.pending]
            appendCounts("outcomes", order.compactMap { name in outcomes[name].map { (name, $0) } }, to: &out)
        }
        appendCounts("categories", batch.categoryCounts.map { ($0.category.rawValue, $0.count) }, to: &out)
        appendField("digest", batch.digest, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The content fields of item `index` (no braces, no batch id or revision): what the digest covers.
    func appendItemContent(of content: WeeklyBatch.Content, at index: Int, scope: String, to out: inout [UInt8]) {
        switch content {
        case .intake(let items):
            let report = items[index].report
            appendField("region", report.owner, first: true, to: &out)
            appendField("reportId", report.reportId, to: &out)
            appendField("category", report.category.rawValue, to: &out)
            appendField("dueBy", report.dueBy, to: &out)
        case .return(let items):
            let item = items[index]
            appendField("province", scope, first: true, to: &out)
            appendField("region", item.report.owner, to: &out)
            appendField("reportId", item.report.reportId, to: &out)
            appendField("category", item.report.category.rawValue, to: &out)
            appendField("intakeBatch", item.report.intakeBatch.description, to: &out)
            appendField("dueBy", item.report.dueBy, to: &out)
            appendField("outcome", item.outcome, to: &out)
            out.append(contentsOf: (item.overdue ? #","overdue":true"# : #","overdue":false"#).utf8)
            if let resolution = item.resolution?.resolution {
                appendField("agency", resolution.agency, to: &out)
                appendField("resolvedAt", resolution.resolvedAt, to: &out)
                if let note = resolution.note { appendField("note", note, to: &out) }
            }
        }
    }

    private func appendHeader(schema: String, batchId: String, revision: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        appendField("schema", schema, first: true, to: &out)
        appendField("batchId", batchId, to: &out)
        appendField("revision", revision, to: &out)
    }

    private func appendField(_ key: StaticString, _ value: String, first: Bool = false, to out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        JSONWriter.appendKey(key, to: &out)
        JSONWriter.appendString(value, to: &out)
    }

    private func appendField(_ key: StaticString, _ value: Timestamp, to out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        JSONWriter.appendKey(key, to: &out)
        out.append(UInt8(ascii: "\""))
        value.appendRFC3339(to: &out, utcOffsetSeconds: utcOffsetSeconds)
        out.append(UInt8(ascii: "\""))
    }

    private func appendField(_ key: StaticString, _ value: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        JSONWriter.appendKey(key, to: &out)
        out.append(contentsOf: String(value).utf8)
    }

    /// `,"key":{"A":1,"B":2}` in the given order.
    private func appendCounts(_ key: StaticString, _ counts: [(String, Int)], to out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        JSONWriter.appendKey(key, to: &out)
        out.append(UInt8(ascii: "{"))
        for (index, (name, count)) in counts.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: String(count).utf8)
        }
        out.append(UInt8(ascii: "}"))
    }
}
