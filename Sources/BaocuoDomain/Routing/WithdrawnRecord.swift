/// `baocuo.withdrawn/v1` (CONTRACT §3, superseded decisions): written to the former owner's inbox,
/// keyed by `reportId`, when a replay moves a report to another owner. Consumers of an inbox treat
/// it as the end of their responsibility for the report.
public struct WithdrawnRecord: Sendable, Equatable {
    /// The `schema` value of every withdrawn record.
    public static let schema = "baocuo.withdrawn/v1"

    /// The withdrawn report's `reportId`, also the record key.
    public var reportId: String
    /// The pooling-region code (6 digits) that owned the report before the replay; its inbox gets this record.
    public var formerOwner: String
    /// The pooling-region code (6 digits) that owns the report after the replay.
    public var newOwner: String
    /// The report's category under the new decision (a §4 id).
    public var category: String
    /// The rules version of the superseded decision; empty when unknown.
    public var rulesVersionBefore: String
    /// The rules version of the new decision; empty when unknown.
    public var rulesVersionAfter: String
    /// The ID of the replay run that moved the report.
    public var replayId: String
    /// RFC 3339 in the deployment's zone.
    public var withdrawnAt: String

    /// A withdrawn record from its fields, written as given.
    public init(
        reportId: String, formerOwner: String, newOwner: String, category: String, rulesVersionBefore: String,
        rulesVersionAfter: String, replayId: String, withdrawnAt: String
    ) {
        self.reportId = reportId
        self.formerOwner = formerOwner
        self.newOwner = newOwner
        self.category = category
        self.rulesVersionBefore = rulesVersionBefore
        self.rulesVersionAfter = rulesVersionAfter
        self.replayId = replayId
        self.withdrawnAt = withdrawnAt
    }

    /// The record's JSON, fields in the contract's order, on one line.
    public func append(to out: inout [UInt8]) {
        let fields: [(StaticString, String)] = [
            ("schema", Self.schema), ("reportId", reportId), ("formerOwner", formerOwner), ("newOwner", newOwner),
            ("category", category), ("rulesVersionBefore", rulesVersionBefore), ("rulesVersionAfter", rulesVersionAfter),
            ("replayId", replayId), ("withdrawnAt", withdrawnAt),
        ]
        out.append(UInt8(ascii: "{"))
        for (index, (name, value)) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: Array("\":".utf8))
            Self.appendQuoted(value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The record as UTF-8 JSON bytes, fields in contract order.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    /// Reads a withdrawn v1 record; nil for anything else (routed copies included).
    public init?(_ bytes: [UInt8]) {
        var parser = JSONParser()
        let parsed: WithdrawnRecord? = bytes.withUnsafeBytes { raw in
            guard case .success(let document) = parser.parse(raw), document.kind(document.root) == .object,
                let schema = document.member(of: document.root, named: "schema"), document.stringEquals(schema, "baocuo.withdrawn/v1")
            else { return nil }
            func string(_ name: StaticString) -> String? {
                guard let value = document.member(of: document.root, named: name), document.kind(value) == .string else { return nil }
                return document.string(value)
            }
            guard let reportId = string("reportId"), let formerOwner = string("formerOwner"), let newOwner = string("newOwner"),
                let category = string("category"), let before = string("rulesVersionBefore"), let after = string("rulesVersionAfter"),
                let replayId = string("replayId"), let withdrawnAt = string("withdrawnAt")
            else { return nil }
            return WithdrawnRecord(
                reportId: reportId, formerOwner: formerOwner, newOwner: newOwner, category: category,
                rulesVersionBefore: before, rulesVersionAfter: after, replayId: replayId, withdrawnAt: withdrawnAt)
        }
        guard let parsed else { return nil }
        self = parsed
    }

    private static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
